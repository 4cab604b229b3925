"""How marketing exposure moves subscription demand: a concave response curve.

Exposure is what the distribution platform shows of a product in a day (slots, page views).
Demand responds with diminishing returns:

    multiplier(e) = 1 + a · log(1 + e / e0)

with ``a`` ≥ 0 the product's sensitivity and ``e0`` > 0 the exposure scale (same unit as ``e``)
at which returns start to diminish. The synthetic sample draws demand with this curve; a
forecaster can estimate ``(a, e0)`` from the data and an optimizer can use the curve (concave, so
maximising demand over a budget of exposure stays a convex problem) to steer exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ExposureResponse", "exposure_response", "marginal_response"]


@dataclass(frozen=True)
class ExposureResponse:
    """Parameters of the response curve.

    Attributes:
        a: sensitivity, demand multiplier per unit of ``log(1 + e/e0)`` (dimensionless, ≥ 0).
        e0: exposure scale, in the exposure's own unit (e.g. page views per day), > 0.
    """

    a: float
    e0: float

    def __post_init__(self) -> None:
        if not (self.a >= 0 and self.e0 > 0):
            raise ValueError(
                f"ExposureResponse needs a >= 0 and e0 > 0, got a={self.a}, e0={self.e0}"
            )


def exposure_response(exposure: npt.ArrayLike, params: ExposureResponse) -> np.ndarray:
    """Demand multiplier ``1 + a·log(1 + exposure/e0)`` (1 at zero exposure).

    Args:
        exposure: exposure per day, ≥ 0, in the unit of ``params.e0``.
        params: the curve's parameters.

    Returns:
        The multiplier, same shape as ``exposure``.
    """
    e = np.asarray(exposure, dtype=float)
    if np.any(e < 0):
        raise ValueError("exposure_response: exposure must be >= 0")
    return 1.0 + params.a * np.log1p(e / params.e0)


def marginal_response(exposure: npt.ArrayLike, params: ExposureResponse) -> np.ndarray:
    """Derivative of :func:`exposure_response` with respect to exposure, per unit of exposure."""
    e = np.asarray(exposure, dtype=float)
    return params.a / (params.e0 + e)
