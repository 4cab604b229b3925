"""rainmaker: forecasting and control of bank cash-management wealth products.

Layers, each importing only the ones below it (enforced by ``lint-imports``, see the
``[tool.importlinter]`` contracts in ``pyproject.toml``):

1. the ground, the modules directly in this package: the data contract (:mod:`rainmaker.dataset`,
   :mod:`rainmaker.validation`), the Chinese business calendar and its one working-day service
   (:mod:`rainmaker.china_calendar`), yield accounting (:mod:`rainmaker.yields`), the asset
   buckets (:mod:`rainmaker.assets`), regulatory numbers (:mod:`rainmaker.regulation`), quantile
   levels and labels (:mod:`rainmaker.quantiles`), the exposure response curve
   (:mod:`rainmaker.response`), the typed stage contracts (:mod:`rainmaker.contracts`), errors,
   output safety and MLflow helpers;
2. the stages, the sibling packages ``forecast`` → ``optimize`` → ``simulate``;
3. the application, :mod:`rainmaker.app` (daily job, report, run history, outputs);
4. the command line, :mod:`rainmaker.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rainmaker")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"
