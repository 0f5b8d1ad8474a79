"""The caption vocabulary: every phrase describe() can write, and the words parse_caption() keys on.

Rules that keep captions parseable (tests check them over all templates):
* each aspect sentence names its aspect with one of ASPECT_WORDS[aspect] and its
  severity with one of SEVERITY_WORDS[severity]; the two never appear elsewhere;
* a sentence may mention two aspect words ("metal streaks", "motion blurring"); the
  one earlier in ASPECT_PRIORITY is its subject;
* absent aspects are listed together in one sentence with a "none" word;
* category words appear only in the overall-quality sentence.
"""

from __future__ import annotations

#: Subject priority when one sentence holds two aspect words.
ASPECT_PRIORITY: tuple[str, ...] = ("metal", "motion", "ring", "streaks", "blur", "noise")

#: Word stems that name each aspect (matched at word starts, case-insensitive).
ASPECT_WORDS: dict[str, tuple[str, ...]] = {
    "metal": ("metal", "implant"),
    "motion": ("motion", "movement"),
    "ring": ("ring", "concentric"),
    "streaks": ("streak", "aliasing"),
    "blur": ("blur", "sharpness"),
    "noise": ("noise", "grain", "mottle"),
}

#: Whole words that carry each severity.
SEVERITY_WORDS: dict[str, tuple[str, ...]] = {
    "none": ("no", "free", "without", "absent"),
    "mild": ("mild", "slight", "minor", "faint"),
    "moderate": ("moderate", "noticeable", "distinct", "evident"),
    "severe": ("severe", "heavy", "strong", "extensive"),
}

#: Per aspect and severity, >= 3 phrasings. Slots: {loc} (anatomy wording), {dev} (implants).
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "noise": {
        "mild": ("Mild noise {loc}.", "Slight graininess {loc}, fine detail preserved.",
                 "Faint quantum mottle {loc}."),
        "moderate": ("Moderate noise {loc}.", "Noticeable graininess {loc} lowers low-contrast detail.",
                     "Distinct quantum mottle {loc}."),
        "severe": ("Severe noise {loc}.", "Heavy graininess {loc} hides low-contrast detail.",
                   "Strong quantum mottle {loc}, small low-contrast lesions would be missed."),
    },
    "streaks": {
        "mild": ("Mild streaks across the slice.", "Slight streak lines at the edges of the body.",
                 "Faint aliasing streaks in the periphery."),
        "moderate": ("Moderate streaks across {region}.", "Noticeable streak lines cross {region}.",
                     "Distinct aliasing streaks over {region}."),
        "severe": ("Severe streaks obscure {region}.", "Heavy streak artefacts across the whole slice.",
                   "Strong streaking hides the anatomy of {region}."),
    },
    "metal": {
        "mild": ("Mild metal artefact around {dev}.", "Slight streaks radiating from the metal of {dev}.",
                 "Minor dark and bright bands next to the metal of {dev}."),
        "moderate": ("Moderate metal streaks radiating from {dev}.",
                     "Noticeable metal artefact around {dev}, obscuring nearby tissue.",
                     "Distinct dark and bright metal streaks from {dev}."),
        "severe": ("Severe metal streaks radiating from {dev} across {region}.",
                   "Heavy metal artefact from {dev} hides the surrounding anatomy.",
                   "Strong photon starvation streaks from the metal of {dev}."),
    },
    "motion": {
        "mild": ("Mild motion blurring of {mloc}.", "Slight motion artefact with doubled edges of {mloc}.",
                 "Minor movement artefact along {mloc}."),
        "moderate": ("Moderate motion blurring of {mloc}.",
                     "Noticeable movement artefact with doubled edges of {mloc}.",
                     "Distinct motion streaks at {mloc}."),
        "severe": ("Severe motion artefact smears {mloc}.", "Heavy movement blurring and streaks at {mloc}.",
                   "Strong motion ghosting of {mloc}."),
    },
    "ring": {
        "mild": ("Mild ring artefacts around the centre of the image.", "Slight concentric rings near the centre.",
                 "Faint ring pattern over {region}."),
        "moderate": ("Moderate ring artefacts over {region}.", "Noticeable concentric rings across {region}.",
                     "Distinct ring pattern around the centre of the image."),
        "severe": ("Severe ring artefacts cross {region}.", "Heavy concentric rings mask {region}.",
                   "Strong ring pattern over the whole slice."),
    },
    "blur": {
        "mild": ("Mild blurring of fine detail.", "Slight loss of sharpness at organ edges.",
                 "Minor blurring of small vessels."),
        "moderate": ("Moderate blurring of small vessels and edges.", "Noticeable loss of sharpness at organ edges.",
                     "Distinct blurring of fine detail."),
        "severe": ("Severe blurring, small structures are lost.", "Heavy loss of sharpness across {region}.",
                   "Strong blurring of all edges and small vessels."),
    },
}

#: The noun each aspect takes in the list of absent aspects.
ABSENT_NOUNS: dict[str, str] = {"noise": "noise", "streaks": "streaks", "metal": "metal artefact",
                                 "motion": "motion", "ring": "rings", "blur": "blurring"}
ABSENT_FORMS: tuple[str, ...] = ("No {list}.", "There is no {list}.", "Free of {list}.", "No visible {list}.")

OVERALL_FORMS: tuple[str, ...] = (
    "Overall quality: {cat} (score {score} of 4).",
    "Overall image quality is {cat}, with a score of {score} out of 4.",
    "Quality score {score}/4, rated {cat}.",
)
#: What each category means on the LDCTIQAC scale (said after the score).
CATEGORY_MEANING: dict[str, tuple[str, ...]] = {
    "bad": ("Desired features are not shown.", "The desired anatomy cannot be seen."),
    "poor": ("Diagnostic interpretation is impossible.", "The slice cannot support a diagnosis."),
    "fair": ("Suitable for limited clinical interpretation.", "Limited clinical interpretation is possible."),
    "good": ("Suitable for diagnostic interpretation.", "Diagnostic interpretation is possible."),
    "excellent": ("Anatomical structures are clearly shown.", "Anatomy is shown clearly in full detail."),
}
CATEGORY_WORDS: tuple[str, ...] = ("bad", "poor", "fair", "good", "excellent")

#: Anatomy wording: where noise is judged ({loc}), what streaks cross ({region}), what moves ({mloc}).
ANATOMY_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "abdomen": {"loc": ("in the liver and soft tissues", "throughout the abdomen", "in the liver"),
                "region": ("the liver and kidneys", "the upper abdomen", "the abdomen"),
                "mloc": ("the anterior abdominal wall", "the bowel and abdominal wall", "the liver edge")},
    "chest": {"loc": ("in the mediastinum and soft tissues", "throughout the chest", "in the mediastinum"),
              "region": ("the mediastinum", "the lungs and mediastinum", "the chest"),
              "mloc": ("the heart borders", "the heart borders and diaphragm", "the chest wall")},
    "head": {"loc": ("in the brain", "throughout the brain", "in the grey and white matter"),
             "region": ("the brain", "the posterior fossa", "the brain parenchyma"),
             "mloc": ("the skull outline", "the skull and scalp", "the brain surface")},
    "pelvis": {"loc": ("in the pelvic soft tissues", "throughout the pelvis", "in the bladder and muscles"),
               "region": ("the pelvis", "the bladder and hips", "the pelvic organs"),
               "mloc": ("the anterior abdominal wall", "the bladder wall", "the bowel loops")},
}
DEFAULT_ANATOMY_WORDS: dict[str, tuple[str, ...]] = {
    "loc": ("in the soft tissues", "throughout the slice", "in the organs"),
    "region": ("the slice", "the central anatomy", "the organs"),
    "mloc": ("the body outline", "the organ edges", "the body wall"),
}

#: How captions name an implant site (keys: Phantom.metal_sites names).
SITE_PHRASES: dict[str, str] = {
    "spine": "the spinal fixation", "surgical clips": "the surgical clips", "IVC filter": "the IVC filter",
    "pacemaker": "the pacemaker", "sternal wires": "the sternal wires", "aneurysm clip": "the aneurysm clip",
    "shunt": "the shunt valve", "skull plate": "the skull plate", "left hip": "the left hip prosthesis",
    "right hip": "the right hip prosthesis",
}
