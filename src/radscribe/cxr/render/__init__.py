"""Synthetic PA chest radiographs that agree with a report (SYNTHETIC images; real lung shapes)."""

from radscribe.cxr.render.measure import measure_ctr
from radscribe.cxr.render.renderer import Rendered, plan_findings, render_cxr

__all__ = ["Rendered", "measure_ctr", "plan_findings", "render_cxr"]
