"""``render_cxr``: a synthetic PA chest radiograph that agrees with a report (or a label dict).

Order of work: choose a real lung shape (seeded), lay out heart and mediastinum for the requested
cardiothoracic ratio, decide which findings to draw from the report's labels and attributes, build
attenuation layers (soft tissue, lung air, bone, vessels, findings, devices), then expose them
(``exp`` with quantum noise, ``-log``, display LUT). Everything it makes is SYNTHETIC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from radscribe.cxr.labeler import extract_finding_attributes, label_report
from radscribe.cxr.render import anatomy
from radscribe.cxr.render.display import expose, window_for
from radscribe.cxr.render.draw import soft_noise
from radscribe.cxr.render.findings import DRAWERS, FindingSpec, Scene
from radscribe.cxr.render.lungmasks import pick_lung_mask
from radscribe.cxr.render.vessels import rasterize, vessel_tree

UNCERTAIN_DRAW_PROBABILITY = 0.5  # an uncertain (-1) finding is drawn, faint, half of the time
NORMAL_CTR = (0.42, 0.48)
CARDIOMEGALY_CTR = {"small": (0.52, 0.56), "moderate": (0.56, 0.60), "large": (0.60, 0.65), None: (0.54, 0.62)}


@dataclass
class Rendered:
    """A synthetic radiograph: ``image`` float32 in [0, 1], dense = bright; masks; what was drawn."""

    image: np.ndarray
    masks: dict[str, np.ndarray]
    truth: dict
    synthetic: bool = True
    labels: dict[str, int] = field(default_factory=dict)


_DEVICE_WORDS = (
    ("ett", r"endotracheal|\bet tube|\bett\b|intubat"),
    ("ng", r"nasogastric|\bng tube|enteric tube|feeding tube|orogastric|\bog tube|dobhoff"),
    ("picc", r"\bpicc\b|peripherally inserted"),
    ("central_line", r"central (?:venous )?(?:line|catheter)|jugular|subclavian|port-?a-?cath|\bport\b|dialysis catheter|swan|catheter"),
    ("pacemaker", r"pacemaker|pacer|defibrillator|\bicd\b|\baicd\b|cardiac device|\bleads?\b|generator"),
    ("sternotomy", r"sternotomy|sternal wires?|median sternal|cabg|bypass"),
    ("stent", r"\bstents?\b"),
)


def _device_kinds(text: str, rng: np.random.Generator) -> list[str]:
    low = text.lower()
    kinds = [kind for kind, pattern in _DEVICE_WORDS if re.search(pattern, low)]
    return kinds or [str(rng.choice(["ett", "ng", "central_line", "pacemaker"]))]


def _lesion_kind(text: str) -> str:
    low = text.lower()
    if re.search(r"\bmass", low):
        return "mass"
    if re.search(r"granulom|calcifi", low):
        return "granuloma"
    return "nodule"


_SIMPLE_KIND = {
    "Pleural Effusion": "effusion", "Pneumothorax": "pneumothorax", "Pleural Other": "pleural_thickening",
    "Consolidation": "consolidation", "Pneumonia": "pneumonia", "Lung Opacity": "opacity", "Edema": "edema",
    "Atelectasis": "atelectasis", "Fracture": "fracture",
}
_DEFAULT_SIDE = {"edema": "bilateral"}


def plan_findings(labels: dict[str, int], text: str, rng: np.random.Generator) -> tuple[list[FindingSpec], dict]:
    """Which findings to draw, with side/size/location from the text. Also returns heart/mediastinum choices."""
    mentions = extract_finding_attributes(text) if text else []
    specs: list[FindingSpec] = []
    heart = {"cardiomegaly": False, "size": None, "subtle": False, "mediastinum": False}
    for observation, label in labels.items():
        if label not in (1, -1) or observation == "No Finding":
            continue
        subtle = label == -1
        if subtle and rng.random() >= UNCERTAIN_DRAW_PROBABILITY:
            continue
        own = [m for m in mentions if m.observation == observation and not m.negated]
        side = next((m.laterality for m in own if m.laterality), None)
        size = next((m.size for m in own if m.size), None)
        location = next((m.locations[0] for m in own if m.locations), None)
        if location is None and any("hilar" in m.sentence for m in own):  # "juxtahilar", "parahilar" wording
            location = "perihilar"
        mention_text = " ".join(m.sentence for m in own) or text
        if observation == "Cardiomegaly":
            heart.update(cardiomegaly=True, size=size, subtle=subtle)
            continue
        if observation == "Enlarged Cardiomediastinum":
            heart["mediastinum"] = True
            continue
        if observation == "Support Devices":
            kinds = _device_kinds(mention_text if own else text, rng)
        elif observation == "Lung Lesion":
            kinds = [_lesion_kind(mention_text)]
        elif observation in _SIMPLE_KIND:
            kinds = [_SIMPLE_KIND[observation]]
        else:
            continue
        for kind in kinds:
            chosen_side = side or _DEFAULT_SIDE.get(kind) or str(rng.choice(["right", "left", "bilateral"] if kind in ("effusion", "atelectasis") else ["right", "left"]))
            chosen_size = size or ("small" if kind == "atelectasis" else "moderate")
            if kind in ("nodule", "granuloma") and re.search(r"multiple|innumerable|several|numerous|nodules|granulomas", mention_text.lower()):
                sides = ["right", "left"] if chosen_side == "bilateral" else [chosen_side]
                for i in range(int(rng.integers(3, 7))):  # "multiple nodules": several, spread over the named lungs
                    specs.append(FindingSpec(observation, kind, sides[i % len(sides)], chosen_size, location, subtle))
                continue
            if kind in ("nodule", "mass", "granuloma", "fracture") and chosen_side == "bilateral":
                chosen_side = str(rng.choice(["right", "left"]))  # one lesion, one side
            specs.append(FindingSpec(observation, kind, chosen_side, chosen_size, location, subtle))
    return specs, heart


def _choose_ctr(heart: dict, rng: np.random.Generator) -> float:
    if not heart["cardiomegaly"]:
        return float(rng.uniform(*NORMAL_CTR))
    if heart["subtle"]:
        return float(rng.uniform(0.5, 0.54))
    return float(rng.uniform(*CARDIOMEGALY_CTR.get(heart["size"], CARDIOMEGALY_CTR[None])))


def _as_labels_and_text(labels_or_report) -> tuple[dict[str, int], str]:
    if isinstance(labels_or_report, str):
        return label_report(labels_or_report), labels_or_report
    if isinstance(labels_or_report, dict):
        return {k: int(v) for k, v in labels_or_report.items()}, ""
    text = getattr(labels_or_report, "text", None)  # a radscribe.cxr.reports.Report
    if isinstance(text, str):
        return label_report(text), text
    raise TypeError("render_cxr wants report text, a Report, or a {observation: 1/0/-1} dict")


def render_cxr(labels_or_report, *, seed: int = 0, size: int = 1024, ctr: float | None = None) -> Rendered:
    """Render a synthetic PA chest radiograph that agrees with ``labels_or_report``.

    ``labels_or_report``: report text, a ``Report``, or a CheXpert label dict (then side/size are random).
    ``ctr`` overrides the cardiothoracic ratio the labels imply. Patient's right is on the IMAGE LEFT.
    """
    if size < 64:
        raise ValueError("size must be at least 64 pixels")
    if ctr is not None and not 0.3 <= ctr <= 0.75:
        raise ValueError("ctr must be between 0.3 and 0.75 (the heart must leave some lung beside it)")
    labels, text = _as_labels_and_text(labels_or_report)
    # separate streams: the same seed gives the same patient whatever the report says (paired images differ only by findings)
    rng_plan, rng_heart, rng, rng_find, rng_noise = (np.random.default_rng([seed, k]) for k in range(5))
    specs, heart = plan_findings(labels, text, rng_plan)
    wanted_ctr = float(ctr) if ctr is not None else _choose_ctr(heart, rng_heart)
    lung_mask = pick_lung_mask(rng)
    lay = anatomy.build_layout(lung_mask, size, rng, wanted_ctr, mediastinum_scale=1.55 if heart["mediastinum"] else 1.0)
    X, Y = anatomy.grid(size)
    lungs = lay.masks["lung_right"] | lay.masks["lung_left"]
    scene = Scene(lay, X, Y, rng_find, air_gate=np.ones((size, size), np.float32), vessel_gate=np.ones((size, size), np.float32),
                  extra=np.zeros((size, size), np.float32), extra_air=np.zeros((size, size), np.float32))
    truth_findings = [DRAWERS[spec.kind](scene, spec) for spec in specs]

    body = anatomy.body_layer(lay, X, Y)
    lung_air = anatomy.lung_layer(lay)
    texture = 0.5 + 0.5 * soft_noise(rng, size, 0.004)
    vessels = rasterize(vessel_tree(rng, lay.hilum_right, -1) + vessel_tree(rng, lay.hilum_left, 1), size)
    vessels = vessels / (np.percentile(vessels[lungs], 99) + 1e-6) if lungs.any() else vessels
    hila = sum(np.exp(-(((X - hx) / 0.03) ** 2 + ((Y - hy) / 0.05) ** 2)) for hx, hy in (lay.hilum_right, lay.hilum_left))
    lung_soft = ndimage.gaussian_filter(lungs.astype(np.float32), size / 300)
    markings = (0.11 * np.clip(vessels, 0, 1.5) + 0.02 * texture) * lung_soft
    bones_and_air = (
        0.08 * hila
        + 0.16 * anatomy.spine_layer(lay, X, Y, rng)
        + 0.17 * anatomy.rib_layer(lay, X, Y, rng, breaks=scene.rib_breaks)
        + 0.22 * anatomy.clavicle_layer(lay, X, Y)
        + 0.10 * anatomy.scapula_layer(lay, X, Y)
        + (0.10 * anatomy.breast_layer(lay, X, Y) if lay.female else 0.0)
        - 0.45 * anatomy.gastric_bubble(lay, X, Y, rng)
        - 0.25 * anatomy.trachea_layer(lay, X, Y)
    )
    normal = 0.95 * body - 0.7 * lung_air + markings + bones_and_air  # the patient without findings
    findings = 0.7 * lung_air * (1 - scene.air_gate) - markings * (1 - scene.vessel_gate) + scene.extra - scene.extra_air
    attenuation = (normal + findings).astype(np.float32)
    image = expose(attenuation, rng_noise, window=window_for(normal, lungs))
    masks = {k: v for k, v in lay.masks.items() if k in ("lung_right", "lung_left", "heart", "mediastinum")}
    masks.update(scene.masks)
    truth = {
        "ctr": round(lay.ctr, 4), "requested_ctr": round(wanted_ctr, 4),
        "heart_width": round(lay.heart_width, 4), "thorax_width": round(lay.thorax_width, 4),
        "findings": truth_findings, "lung_mask_source": lung_mask.source_id, "seed": seed, "size": size,
        "female": lay.female, "view": "PA", "orientation": "patient right on image left", "synthetic": True,
    }
    return Rendered(image=image, masks=masks, truth=truth, labels=labels)
