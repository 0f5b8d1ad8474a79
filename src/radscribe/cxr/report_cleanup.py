"""Sentence-level clean-up of report text for summaries (XrayGPT's rewrite steps, as rules).

Each step takes one sentence and returns it rewritten, or ``None`` when nothing
worth keeping is left:

* :func:`repair_deid` -- IU-Xray replaced some words with ``XXXX`` (MIMIC-CXR uses ``___``; mostly not PHI at
  all: "costophrenic XXXX", "lymph XXXX"). Frequent contexts get their likely word
  back; other blanks are removed and the grammar around them repaired; a sentence
  whose subject was blanked ("The XXXX are normal") is dropped.
* :func:`remove_comparisons` -- statements about prior studies ("unchanged from
  prior", "since the previous exam", "stable cardiomegaly" -> "cardiomegaly").
* :func:`remove_views` -- view mentions ("PA and lateral views of the chest were obtained").
* :func:`tidy` -- spacing, dangling words, articles, capital letter and full stop.
"""

from __future__ import annotations

import re

from radscribe.cxr.labeler import label_sentence

_I = re.IGNORECASE
_BLANK = r"XXXX"

# Blanked words whose context gives them away, and the hedges a blank usually hid.
_DEID_FILLS: tuple[tuple[str, str], ...] = (
    (r"\bx-XXXX\b", "x-ray"),
    (r"\b(less|more|most)\s+XXXX\b", r"\1 likely"),
    (r"\bdual-XXXX\b", "dual-chamber"),
    (r"\b(costophrenic|cardiophrenic)\s+XXXX(?:\s+XXXX)?", r"\1 angle"),
    (r"\blymph\s+XXXX", "lymph nodes"),
    (r"\baortic\s+XXXX", "aortic arch"),
    (r"\bheart\s+XXXX(?=\s+(?:is|appears|size))", "heart size"),
    (r"\bheart\s+XXXX", "heart border"),
    (r"\bcollecting\s+XXXX", "collecting system"),
    (r"\btransverse\s+XXXX", "transverse aorta"),
    (r"\btortuous\s+XXXX", "tortuous vessels"),
    (r"\bemphysematous\s+XXXX", "emphysematous bulla"),
    (r"\bcardiac\s+XXXX\s+generator", "cardiac device generator"),
    (r"\blung\s+XXXX", "lungs"),
    (r"\bsternotomy\s+XXXX", "sternotomy wires"),
    (r"\binspiratory\s+XXXX", "inspiratory effort"),
    (r"\b(?:the\s+)?XXXX\s+(are|is)\s+(grossly\s+|otherwise\s+)?intact\b", r"the osseous structures \1 \2intact"),
    (r"\b(are|is)\s+no\s+XXXX\s+of\b", r"\1 no signs of"),
    (r"\b(no|without|negative for)\s+XXXX\s+of\b", r"\1 evidence of"),
    (r"\bin\s+XXXX\s+(position|location)\b", r"in \1"),
    (r"\b(is|are|remains?)\s+in\s+XXXX\b", r"\1 in place"),
    (r"\b(has|have)\s+XXXX\s+in the interval\b", r"\1 changed in the interval"),
    (r"\bXXXX\s+(represent|reflect|be|indicate|relate|correspond)\b", r"may \1"),
    (r"\bXXXX\s+(represents|reflects|indicates|corresponds)\b", r"likely \1"),
    # A blanked noun in a list ("the heart, pulmonary XXXX and mediastinum"): drop the item, keep the list.
    (r",\s*(?:[a-z]+\s+)?XXXX(?=\s+and\b)", ""),
    (r"\b(?:pulmonary|hilar|mediastinal|bony|osseous)\s+XXXX\s+and\s+", ""),
    (r"\s+and\s+(?:pulmonary|hilar|mediastinal|bony|osseous)\s+XXXX\b", ""),
    (r"\s+and\s+XXXX(?=\s+(?:are|is|appear|appears)\b)", ""),  # "vasculature and XXXX are normal"
)
_DEID_FILLS_RE = tuple((re.compile(p, _I), r) for p, r in _DEID_FILLS)
# A blank right before a verb was the subject: the sentence lost what it is about.
_BLANK_SUBJECT = re.compile(
    r"^(?:(?:the|a|an|visualized|visible|other)\s+)?(?:[\w-]+\s+){0,2}XXXX\s+(?:are|is|was|were|appear|appears|remain|remains|have|has)\b"
    r"|\b(?:the|a|an)\s+XXXX\s+(?:are|is|was|were|appear|appears|remain|remains)\b",
    _I,
)


def repair_deid(sentence: str) -> str | None:
    """Undo de-identification blanks: fill the obvious ones, remove the rest, drop subjectless sentences."""
    out = re.sub(r"_{2,}", _BLANK, sentence)  # MIMIC-CXR blanks with "___"
    if _BLANK not in out:
        return out
    out = re.sub(r"XXXX(?:[\s,]+XXXX)+", _BLANK, out)
    for pattern, replacement in _DEID_FILLS_RE:
        out = pattern.sub(replacement, out)
    if _BLANK_SUBJECT.search(out) or re.fullmatch(r"[\W\d]*(?:XXXX[\W\d]*)+", out):
        return None
    out = re.sub(r"[\w-]*XXXX[\w-]*", " ", out)
    return tidy(out)


# Whole sentences that only compare with a prior study.
_COMPARISON_SENTENCE = re.compile(
    r"^(?:there (?:has|have) been )?(?:no|without|little) (?:significant |appreciable |substantial |acute |radiographic |"
    r"definite |interval |other )*(?:change|interval change|progression)\b"
    r"|^(?:stable|unchanged|similar) (?:exam|examination|study|chest|appearance|radiograph|findings?|chest radiograph)\b"
    r"|^(?:compared? (?:to|with)|comparison|in comparison|when compared|prior (?:study|exam|examination|radiographs?|films?|ct))\b[^,]*$"
    r"|\bchanged in the interval\b|^(?:this|these|it|they) (?:is|are|appears?) (?:\w+ )?(?:similar|unchanged|stable)\b"
    r"|^no (?:prior|previous|comparison) (?:\w+ ){0,3}(?:available|for comparison)"
    r"|^(?:the )?(?:findings?|appearance|exam|examination|chest|overall appearance) (?:is |are |has |have |remains? )"
    r"(?:\w+ )?(?:stable|unchanged|not changed|similar)\b"
    r"|^(?:the )?lungs have (?:not )?changed\b",
    _I,
)
# "unchanged from prior", "since the previous exam", "compared to the radiograph from 2010" ...
_COMPARISON_CLAUSE = re.compile(
    r",?\s*(?:(?:which|that) (?:is|are|has|have) )?(?:and )?(?:(?:grossly|essentially|largely|relatively|overall|not significantly) )?"
    r"(?:(?:unchanged|stable|similar|changed|improved|increased|decreased|worsened|new|more prominent|less prominent)\s+)?"
    r"(?:in (?:appearance|size|position) )?"
    r"(?:(?:as |when )?compared (?:to|with)|from|since|relative to|than (?:on )?|as on|as seen on|as of|on|similar to|"
    r"in comparison (?:to|with)|worse than|better than|larger than|smaller than) "
    r"(?:the |a |an |multiple |several )?(?:prior|previous|last|most recent|comparison|preceding|earlier|"
    r"recent prior|prior chest)\b(?:(?!\s(?:without|with|but|and)\s)[^,.;])*"
    r"|,?\s*(?:and (?:is |are |has been |have been )?)?(?:(?:grossly|essentially|largely|relatively) )?(?:(?:unchanged|stable|similar)\s+)?"
    r"(?:since|from|compared (?:to|with)) (?:a |an |the )?(?:[a-z]+ ){0,2}(?:ct|radiographs?|exams?|examinations?|"
    r"stud(?:y|ies)|films?|x-rays?)\b(?:(?!\s(?:without|with|but|and)\s)[^,.;])*"
    r"|^in the interval,?\s*|,?\s*in the interval\b",
    _I,
)
_COMPARISON_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(is|are)\s+again\s+(seen|noted|demonstrated|identified|visualized|present)\b", r"\1 \2"),
    (r"^again (?:seen|noted|demonstrated|identified|visualized|observed) (is|are)\b", r"there \1"),
    (r"\bagain\s+(?=(?:seen|noted|demonstrated|identified|visualized|present|observed)\b)", ""),
    (r"^again,?\s+", ""),
    (r"^(?:when |as )?compared(?: to| with)?[^,]*,\s*", ""),
    (r",?\s*(?:similar to|than|as seen) previously\b", ""),
    (r"\bas before\b", ""),
    (r"\bredemonstration of\s+", ""),
    (r"\bredemonstrated\b", "seen"),
    (r"\b(?:previously|again) (?:seen|noted|described|demonstrated|identified|visualized)\s+", ""),
    (r",?\s*(?:and|but)\s+(?:(?:is|are|remains?)\s+)?(?:grossly\s+|essentially\s+)?(?:stable|unchanged)\b", ""),
    (r"\binterval\s+(?=(?:development|increase|decrease|improvement|worsening|placement|removal|resolution|"
     r"enlargement|progression|appearance|change|clearing|decrease)\b)", ""),
    (r"(?:^(?:grossly |overall |relatively )?|(?<=\ba )|(?<=\ban )|(?<=\bthe )|(?<=\bwith )|(?<=\bof )|(?<=\band )|(?<=\bno )"
     r"|(?<=\bdemonstrates )|(?<=\bshows )|(?<=\bdemonstrate )|(?<=\bshow ))"
     r"(?:stable|unchanged|persistent|persisting|continued|new|newly)\s+(?=[a-z])", ""),
    (r",?\s*(?:stable|unchanged)(?=[.;,]|$)", ""),
    # ", stable mediastinal and hilar contours": a list item that only said "no change".
    (r",\s*(?:and\s+)?(?:stable|unchanged)\s+(?:[\w-]+\s+){0,3}(?:contours?|silhouettes?)(?=[.;,]|$)", ""),
    (r",\s*(?:stable|unchanged)\s+(?=[a-z])", ", "),
    (r"\b(is|are)\s+and\s+", r"\1 "),
    # Whatever "again" and attributive "stable"/"unchanged" are left say "as before": "is again mildly enlarged",
    # "mild stable cardiomegaly", "there is stable elevation of ...".
    (r"\bagain,?\s+(?=[a-z])", ""),
    (r"(?<!\bis)(?<!\bare)\s+(?:stable|unchanged) and\s+(?=[a-z])", " "),  # "silhouette stable and unremarkable"
    (r"\b(there (?:is|are)|they're) (?:(?:grossly|essentially)\s+)?(?:stable|unchanged)(?:[- ]appearing)?\s+(?=[a-z])", r"\1 "),
    (r"(?<!\bis )(?<!\bare )(?<!\bremains )(?<!\bappears )(?<!\bbe )(?:\b(?:grossly|essentially|overall)\s+)?"
     r"\b(?:stable|unchanged)(?:[- ]appearing)?\s+(?!(?:in|from|since|compared|and|with|to|position|appearance|of|when|as|"
     r"on|at|for|or|but|than|over|given)\b)(?=[a-z])", ""),
    # Leftover mentions of the earlier study itself ("unchanged in the prior study", "in position to prior study").
    (r"\s*(?:\b(?:unchanged|stable)\s+)?(?:\b(?:in|to)\s+)?(?:the\s+)?\b(?:prior|previous)\s+(?:study|exam|examination|"
     r"radiographs?|films?)\b", ""),  # "are [similar to comparison exam] and within normal limits"
    (r"\b(is|are)\s+(?:grossly\s+|essentially\s+)?(?:stable|unchanged)\s+and\s+", r"\1 "),
    (r"\bin place,\s*(?:stable|unchanged)\s+position\b", "in place"),
    (r"\bin (?:stable|unchanged) (position|location|alignment)\b", r"in \1"),
)


_ONLY_STABLE = re.compile(
    r"^(?:the )?(?:heart(?: size)?|cardiac silhouette|cardiomediastinal silhouette|mediastinum|mediastinal contours?|"
    r"lungs?|lung volumes|pulmonary vasculature)(?: and [\w ]+)? (?:is|are|remains?|appears?) (?:grossly |essentially )?"
    r"(?:stable|unchanged)(?: in (?:size|appearance|contour|position))?(?: (?:from|since|compared)[^.]*)?\.?$",
    _I,
)

_COMPARISON_WORDS_RE = tuple((re.compile(p, _I), r) for p, r in _COMPARISON_WORDS)
# "<subject> is stable." for any subject; dropped when the subject names no finding ("The hilar contours are
# stable"), kept as the finding when it does ("Cardiomegaly is stable" -> "Cardiomegaly.").
_SUBJECT_STABLE = re.compile(
    r"^(?P<subject>[\w ,/-]{1,80}?) (?:is|are|remains?|appears?|has remained|have remained) (?:grossly |essentially |"
    r"relatively |overall )?(?:stable|unchanged)(?: in (?:size|appearance|contour|position|configuration)"
    r"(?: and (?:size|appearance|contour|position|configuration))?)?"
    r"(?: (?:from|since|compared)(?:(?! and )[^.])*)?\.?$",
    _I,
)
# Findings the CheXpert labeler has no class for, but a summary should keep.
_FINDING_NOUN = re.compile(
    r"\b(?:changes|hernia|calcifi\w*|deformit\w*|scar\w*|elevat\w*|eventration|prominen\w*|tortu\w*|ectasia|clips|"
    r"wires|hardware|emphysema|hyperinfla\w*|hyperexpan\w*|thickening|disease|kyphosis|scoliosis|spondylosis|granulomas?)\b",
    _I,
)
_DISCOURSE = re.compile(r"^(?:however|also|again|otherwise|additionally),?\s+", _I)


def remove_comparisons(sentence: str) -> str | None:
    """Remove statements about prior studies; ``None`` when that was all the sentence said."""
    if _COMPARISON_SENTENCE.search(_DISCOURSE.sub("", sentence.strip())):
        return None
    subject_only = _SUBJECT_STABLE.match(sentence.strip())
    if subject_only:
        subject = subject_only.group("subject")
        if any(v != 0 for v in label_sentence(subject).values()) or _FINDING_NOUN.search(subject):
            return tidy(subject)  # "Postsurgical changes ... are stable." -> "Postsurgical changes ..."
        return None
    # "Heart size is stable." says nothing once the comparison is gone.
    if _ONLY_STABLE.search(sentence):
        return None
    out = _COMPARISON_CLAUSE.sub("", sentence)
    for pattern, replacement in _COMPARISON_WORDS_RE:
        out = pattern.sub(replacement, out)
    out = tidy(out)
    return None if out is None or _COMPARISON_SENTENCE.search(out) else out


_VIEW_SENTENCE = re.compile(
    r"^(?:the )?(?:(?:pa|ap|frontal|lateral|portable|upright|supine|semi-upright|single|two|three|four|\d+|bedside|chest)\b"
    r"[\w\s,/-]{0,40}?\b(?:views?|radiographs?|images?|projections?|films?|exams?)\b(?: of the chest| chest)?"
    r"(?: (?:were|was|are|is|have been) (?:obtained|provided|performed|submitted|acquired|reviewed|available))?"
    r"(?: on [\w/ ]+)?|(?:the )?(?:examination|exam|study) consists of [^.]*|a total of \w+ images? (?:were|was) obtained"
    r"|chest,? (?:pa|ap|2 views?|two views?)[\w\s,/-]*)[\s/]*\.?$",
    _I,
)
_VIEW_LEAD = re.compile(
    r"^(?:(?:pa|ap|frontal|portable|upright|lateral)[\w\s/()-]*?(?:views?|radiographs?|images?)(?: of the chest)?"
    r"(?: with [\w\s-]{1,60}?(?= (?:show|shows|demonstrate|demonstrates|reveal|reveals)\b))?"
    r"(?: (?:show|shows|demonstrate|demonstrates|reveal|reveals|were obtained and demonstrate))?\s*[:,]?\s+)"
    r"(?!(?:were|was|is|are|obtained|obscured|limited|degraded|of)\b)", _I
)
_VIEW_INLINE = re.compile(
    r",?\s*(?:(?:only|best|well|also|xxxx)\s+)?(?:seen\s+|visualized\s+|identified\s+)?(?:on|in) (?:the )?"
    r"(?:pa|ap|frontal|lateral|portable)(?: and lateral)? (?:views?|projections?|radiographs?|images?|films?)\b", _I
)


# Technique remarks about a view ("The lateral view is degraded by motion") say nothing about the patient.
_VIEW_TECHNIQUE = re.compile(
    r"\b(?:views?|projections?)\b.*\b(?:limit\w*|degraded|obscured|nondiagnostic|suboptimal|repeated|lordotic|expiratory|rotat\w*|"
    r"motion|positioning)\b|\b(?:limited|rotated|lordotic|suboptimal)\b.*\b(?:views?|projections?)\b",
    _I,
)
_VIEW_ASIDE = re.compile(
    r"\s*\((?:pa|ap|frontal|lateral) (?:view|projection)\)|,?\s*(?:allowing for|given|for|on) (?:an? |the )?(?:pa|ap|portable)"
    r" (?:view|projection|technique)\b",
    _I,
)


def remove_views(sentence: str) -> str | None:
    """Drop sentences that only name the views taken or their technique; cut view phrases out of the rest."""
    if _VIEW_SENTENCE.match(sentence.strip()) or _VIEW_TECHNIQUE.search(sentence):
        return None
    out = _VIEW_ASIDE.sub("", _VIEW_INLINE.sub("", _VIEW_LEAD.sub("", sentence.strip())))
    return tidy(out)


_DANGLING = re.compile(
    r"\s+\b(?:the|a|an|of|in|on|at|with|and|or|to|from|by|for|is|are|which|that|compared|since|than|as)\s*(?=[,.;:]|$)", _I
)
# A one-word sentence is kept only when the word looks like a finding ("Emphysema.", "Cardiomegaly.").
_LONE_ADJECTIVE = re.compile(r"^[a-z-]+$(?<!sis)(?<!ia)(?<!ma)(?<!ly)(?<!ism)(?<!ion)(?<!s)(?<!y)(?<!ure)", _I)
_NOISE = re.compile(
    r"^(?:however,? |also,? )?(?:it|this|they|these|which) (?:is|are|appears?|remains?|looks?)$"
    r"|^(?:the )?(?:overall )?appearance of (?:the )?(?:lungs?|chest|heart|mediastinum)$"
    r"|^(?:end of (?:report|impression)|findings?|impression|comparison|indication|history|there (?:is|are)(?: an?)?|"
    r"this|these|it)\s*:?\s*$",
    _I,
)


_SPACES = re.compile(r"\s+")
_LIST_MARKER = re.compile(r"^(?:\d{1,2}[.)]\s*)+")  # "1." "2)"
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:])")
_EMPTY_PUNCT = re.compile(r"([,;:])\s*(?=[,.;:]|$)")
_LEADING_JOIN = re.compile(r"^[\s,.;:]*(?:and|or|but|with)?[\s,.;:]+", _I)
_TRAILING_ADJECTIVE = re.compile(
    r"\s+(?:and\s+|or\s+)?(?:left|right|pulmonary|mediastinal|hilar|aortic|bony|osseous|cardiac|superior|inferior)\s*(?=[.;]|$)", _I
)
_SINGULAR_ARE = re.compile(r"\b(heart|mediastinum|trachea|aorta|silhouette)\s+are\b", _I)
_A_BEFORE_VOWEL = re.compile(r"\ba ([aeiou])")
_AN_BEFORE_CONSONANT = re.compile(r"\ban ([b-df-hj-np-tv-z])")


def tidy(sentence: str | None) -> str | None:
    """Fix spacing and punctuation, drop dangling function words, capitalise, end with a full stop."""
    if sentence is None:
        return None
    out = _SPACES.sub(" ", sentence).strip().lstrip("[<>*#")
    out = _LIST_MARKER.sub("", out)
    for _ in range(3):
        out = _DANGLING.sub("", out)
        out = _SPACE_BEFORE_PUNCT.sub(r"\1", out)
        out = _EMPTY_PUNCT.sub("", out)
        out = _LEADING_JOIN.sub("", out).strip()
    out = _TRAILING_ADJECTIVE.sub("", out)
    out = _SINGULAR_ARE.sub(r"\1 is", out)
    out = _A_BEFORE_VOWEL.sub(r"an \1", out)
    out = _AN_BEFORE_CONSONANT.sub(r"a \1", out)
    out = out.strip(" .,;:")
    if not re.search(r"[A-Za-z]{4,}", out) or _NOISE.match(out) or _LONE_ADJECTIVE.match(out):
        return None
    return out[0].upper() + out[1:] + "."
