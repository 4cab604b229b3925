"""rainmaker: forecasting and control of bank cash-management wealth products.

The shared pieces live here: the data contract (:mod:`rainmaker.dataset`,
:mod:`rainmaker.validation`), the Chinese business calendar (:mod:`rainmaker.china_calendar`),
yield accounting (:mod:`rainmaker.yields`), the asset buckets a portfolio is made of
(:mod:`rainmaker.assets`) and the command line (:mod:`rainmaker.cli`). The three stages of the
engine are the sibling packages ``forecast``, ``optimize`` and ``simulate``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rainmaker")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"
