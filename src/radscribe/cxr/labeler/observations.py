"""The 14 CheXpert observations and the phrases that mention them.

Two kinds of mention, in the spirit of the CheXpert labeler's phrase lists:

* ``terms`` name a finding outright ("cardiomegaly", "pleural effusion"); such a
  mention is positive unless negated or hedged. ``hedged`` phrases are
  uncertain by nature ("blunting of the costophrenic angle" may be fluid or scar).
* ``anatomy`` names a structure the observation is judged on ("heart size",
  "mediastinum", "lungs"); it only counts when a descriptor near it says
  ``abnormal`` (positive), ``uncertain`` (-1) or ``normal`` (negative).

``exclude`` spans are phrases that contain a term but mean something else
("pericardial effusion" is not a pleural effusion). All patterns run on text
from :func:`radscribe.cxr.labeler.text.normalize` (lower case, abbreviations expanded).
Written for radscribe; labelling conventions are documented in docs/cxr-text.md.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_FINDING = "No Finding"
SUPPORT_DEVICES = "Support Devices"

OBSERVATIONS: tuple[str, ...] = (
    NO_FINDING,
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Lesion",
    "Lung Opacity",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    SUPPORT_DEVICES,
)


@dataclass(frozen=True)
class ObservationRules:
    """How one observation is mentioned in text (regular-expression alternatives)."""

    name: str
    terms: tuple[str, ...] = ()
    hedged: tuple[str, ...] = ()  # findings that are uncertain by nature ("blunted costophrenic angle")
    exclude: tuple[str, ...] = ()
    anatomy: str | None = None
    abnormal: str | None = None
    uncertain: str | None = None
    normal: str | None = None


_NORMAL = r"normal|unremarkable|within normal limits|upper limits? of normal|top normal|top-normal|not enlarged"

RULES: tuple[ObservationRules, ...] = (
    ObservationRules(
        "Enlarged Cardiomediastinum",
        terms=(
            r"(?:widened|widening of the|enlarged|enlargement of the) (?:superior )?mediastin(?:um|al silhouette|al contours?)",
            r"mediastinal (?:widening|enlargement|mass|lymphadenopathy|adenopathy)",
            r"enlarged cardiomediastinal (?:silhouette|contours?|shadow)",
        ),
        anatomy=r"cardiomediastinal (?:silhouettes?|contours?|shadow|size)|cardiomediastinum"
        r"|mediastin(?:um|al (?:silhouettes?|contours?|structures|width|shadow))|mediastinal",
        abnormal=r"enlarged|widened|widening|wide|enlargement|increased",
        uncertain=r"prominent|prominence|borderline",
        normal=_NORMAL + r"|stable and normal|negative",
    ),
    ObservationRules(
        "Cardiomegaly",
        terms=(r"cardiomegaly", r"cardiac enlargement", r"enlarged (?:cardiac silhouette|heart)", r"cardiac hypertrophy",
               r"enlargement of the (?:cardiac (?:silhouette|shadow|contours?)|heart)"),
        anatomy=r"heart(?! failure)(?: size)?|cardiac (?:silhouette|size|shadow|contours?|borders?)|cardiac(?= and mediastinal)",
        abnormal=r"enlarged|enlargement|large|increased|cardiomegaly",
        uncertain=r"prominent|prominence|borderline|mildly prominent",
        normal=_NORMAL + r"|small|negative",
    ),
    ObservationRules(
        "Lung Lesion",
        terms=(
            r"nodules?", r"nodular(?:ity)?", r"masse?s?", r"granulomas?|granulomata", r"mass lesions?",
            r"(?:lung|pulmonary|cavitary|cavitating) lesions?", r"tumou?rs?", r"neoplasms?|neoplastic",
            r"carcinoma", r"malignancy|malignant", r"metastas[ie]s|metastatic disease", r"cancer",
        ),
        exclude=(r"soft tissue mass", r"breast mass", r"mediastinal mass", r"lymph nodes?"),
    ),
    ObservationRules(
        "Lung Opacity",
        terms=(
            r"opacit(?:y|ies)", r"opacification", r"opacified", r"densit(?:y|ies)", r"infiltrat(?:e|es|ion|ive)",
            r"air[- ]?space (?:disease|process|opacit(?:y|ies)|filling)", r"haziness|hazy",
            r"ground[- ]glass", r"(?:interstitial|reticular|reticulonodular|bronchovascular)"
            r" (?:markings?|pattern|prominence|thickening|opacit(?:y|ies)|changes?|lung disease|disease)",
            r"increased (?:\w+ )?markings", r"reticulation", r"(?:parenchymal |apical |linear |biapical )?scarring", r"scars?",
            r"(?:pulmonary |interstitial )?fibrosis|fibrotic (?:changes?|scarring)",
        ),
        exclude=(
            r"(?:bone|bony|osseous|sclerotic|soft tissue|breast) (?:opacit(?:y|ies)|densit(?:y|ies))|breast",
            r"pleural(?:[- ]parenchymal)? (?:scarring|scars?|fibrosis)|pleuroparenchymal (?:scarring|scars?)",
            r"(?:calcified|nodular|granulomatous) densit(?:y|ies)",
        ),
        anatomy=r"lungs?(?! (?:volumes?|bases?|apex|apices|zones?))",
        normal=r"clear|normal|unremarkable|well aerated and clear|expanded and clear",
    ),
    ObservationRules(
        "Edema",
        terms=(r"edema", r"congestive heart failure", r"heart failure", r"fluid overload", r"kerley b lines?"),
        exclude=(r"soft tissue edema", r"subcutaneous edema", r"(?:extremity|leg|chest wall) edema"),
    ),
    ObservationRules("Consolidation", terms=(r"consolidations?", r"consolidative(?: opacit(?:y|ies)| process| changes?)?", r"consolidated")),
    ObservationRules(
        "Pneumonia",
        terms=(r"pneumonias?", r"bronchopneumonia", r"pneumonitis", r"infection", r"infectious (?:process|etiology|infiltrate)"),
        # Healed old infection (calcified granulomas) is history, not pneumonia now.
        exclude=(r"(?:granulomatous|tuberculous|tuberculosis|histoplasmosis|old|prior|previous|remote|healed) infection",),
    ),
    ObservationRules(
        "Atelectasis",
        terms=(
            r"atelectas[ie]s", r"atelectatic(?: changes?)?", r"(?:lobar|lobe|lung|segmental) collapse",
            r"collapse of the (?:\w+ )*?(?:lobe|lung)", r"collapsed (?:lung|lobe)",
        ),
    ),
    ObservationRules("Pneumothorax", terms=(r"(?:hydro)?pneumothora(?:x|xes|ces)", r"pleural air(?: collections?)?")),
    ObservationRules(
        "Pleural Effusion",
        terms=(
            r"(?:pleural )?effusions?", r"pleural fluid", r"loculated (?:pleural )?fluid", r"hydrothorax", r"hydropneumothorax",
            r"fluid (?:in|within|tracking along) the (?:\w+ )?fissures?",
        ),
        hedged=(
            r"blunt(?:ing|ed) of the (?:[a-z]+ ){0,3}costophrenic (?:angles?|sulci|sulcus|recess(?:es)?|xxxx)",
            r"costophrenic (?:angles?|sulci|sulcus|recess(?:es)?|xxxx)(?: [a-z]+){0,2} blunt(?:ed|ing)",
            r"blunted (?:[a-z]+ ){0,2}costophrenic (?:angles?|sulci|sulcus|recess(?:es)?|xxxx)",
        ),
        exclude=(r"pericardial effusions?", r"joint effusions?", r"(?:knee|shoulder|elbow) effusions?"),
    ),
    ObservationRules(
        "Pleural Other",
        terms=(
            r"pleural(?:[- ]parenchymal)? (?:thickening|plaques?|calcifications?|scarring|scars?|fibrosis)",
            r"pleuroparenchymal (?:scarring|scars?|thickening)", r"fibrothorax", r"calcified pleural plaques?",
            r"pleural[- ]based (?:thickening|opacit(?:y|ies))",
        ),
    ),
    ObservationRules(
        "Fracture",
        terms=(r"fractures?", r"fractured", r"(?:compression|wedge) (?:xxxx )?deformit(?:y|ies)", r"broken ribs?"),
        # A broken device is not a broken bone: "fractured proximal lateral xxxx" (a lead), "the screw is fractured".
        exclude=(r"fractured (?:[a-z]+ ){0,3}(?:leads?|wires?|screws?|xxxx|hardware|plates?)",
                 r"(?:lead|wire|screw|hardware) fractures?",
                 r"(?:leads?|wires?|screws?|xxxx|hardware|plates?) (?:is|are|was|were|appears?) (?:\w+ )?fractured"),
    ),
    ObservationRules(
        SUPPORT_DEVICES,
        terms=(
            r"pacemakers?", r"pacers?", r"(?:pacer|pacemaker|pulse|cardiac(?: xxxx)?|icd|aicd|battery) generators?", r"pacing (?:device|wires?|leads?|generator)", r"defibrillators?", r"aicd", r"icd",
            r"(?:dual|single)[- ]chamber (?:\w+ )?(?:device|pacemaker|pacer)", r"cardiac (?:device|pacing device|generator)",
            r"(?:pacer|pacemaker|pacing|transvenous|ventricular|atrial|icd|aicd|defibrillator) leads?",
            r"(?:central venous|central|picc|swan[- ]ganz|venous|dialysis|hemodialysis|subclavian|jugular|"
            r"internal jugular|pulmonary artery) (?:lines?|catheters?)",
            r"picc(?: line)?", r"catheters?",
            r"(?:endotracheal|tracheostomy|nasogastric|orogastric|feeding|chest|enteric|gastric|dobhoff|"
            r"thoracostomy) tubes?",
            r"tracheostomy", r"port[- ]?a[- ]?cath", r"(?:chest|infusion|mediport|power) port",
            r"(?:left|right)[- ]sided port", r"\bport\b", r"stents?", r"lvad|ventricular assist device",
            r"(?:prosthetic|mechanical|replaced|transcatheter|bioprosthetic) (?:aortic |mitral |pulmonic |tricuspid )?valves?",
            r"(?:aortic |mitral )?valve (?:replacement|prosthesis)", r"drains?", r"(?:medical|support) devices?",
        ),
        exclude=(r"port of entry",),
    ),
)

RULES_BY_NAME: dict[str, ObservationRules] = {rule.name: rule for rule in RULES}
