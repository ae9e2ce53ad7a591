"""Drafting a mapping from a file's headers and values: which column feeds which field.

Every header is scored against every field the vocabulary knows (names and synonyms,
then the values: an email field wants email addresses). A column is placed only when
its match is strong and no other column is about as good for the same field; weak
and tied matches are left to the user as comments, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from importer.core.constants import STATUS_COMMENT_STATES
from importer.rules.mapping.header_names import name_match
from importer.rules.mapping.mapping import FieldType
from importer.rules.mapping.synonyms import FIELDS, FieldWords
from importer.rules.suggest.profile import ColumnProfile

PLACE = 0.8  # a match at least this strong is written as a mapping line
WEAK = 0.6  # ...between WEAK and PLACE, as a commented suggestion
TIE = 0.05  # two columns this close for one field: neither is guessed
VALUES_BONUS = 0.1  # the values are what the field holds
VALUES_PENALTY = 0.6  # ...or plainly not
LIFT_FROM = 0.71  # a name better than a word inside a longer header may be lifted by values
SEARCH_FIELDS = ("lead.EmailAddress", "lead.Mobile", "lead.Phone")  # search_by, in this order
NAME_FIELD = "opportunity.mx_Custom_1"  # the opportunity's name (Capture Opportunities page)
STATUS_FIELD = "opportunity.Status"
COMMENT_FIELD = "opportunity.mx_Custom_19"
_IDENTIFYING_WORDS = frozenset(
    {"name", "title", "number", "no", "id", "reference", "ref", "code", "application"}
)


@dataclass(frozen=True)
class Match:
    """One line of what `map suggest` decided, for the table it prints and the web page.

    `target` is None for a column left for the user; `old_column` is the mapping's
    column a header replaces when re-targeting (`--from`).
    """

    column: str
    target: str | None
    confidence: float
    reason: str
    old_column: str | None = None


@dataclass
class Placement:
    """A column placed on a field, with the rules proposed for it."""

    column: str
    target: str
    confidence: float
    reason: str
    rules: dict[str, object] = field(default_factory=dict)  # in the order they are written


@dataclass
class Hold:
    """Columns not placed: for a field (tied or weak), or for nobody (`target` None)."""

    columns: list[str]
    target: str | None
    confidence: float
    reason: str
    rules: dict[str, object] = field(default_factory=dict)


@dataclass
class Draft:
    """A mapping proposal, before it is written as YAML."""

    placed: list[Placement]
    held: list[Hold]  # tied, weak or unknown columns, each written as comments
    search_by: str | None
    unique: list[str]
    default_country: str | None
    notes: list[str] = field(default_factory=list)

    def matches(self) -> list[Match]:
        """Placed columns, then held ones, in the order a person should read them."""
        found = [Match(p.column, p.target, p.confidence, p.reason) for p in self.placed]
        for hold in self.held:
            found.extend(Match(c, None, hold.confidence, hold.reason) for c in hold.columns)
        return found

    def todo(self) -> list[str]:
        """Columns the draft leaves for the user, in file order of appearance."""
        return list(dict.fromkeys(c for hold in self.held for c in hold.columns))


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class _Score:
    score: float
    reason: str


def score_column(header: str, words: FieldWords, profile: ColumnProfile) -> _Score:
    """How well a column fits a field: its header's words, then its values."""
    named = name_match(header, words)
    score = named.score
    if named.score >= 1.0:
        reason = f'"{header}" is a usual name for the {words.label}'
    elif named.loose:
        reason = f'"{header}" reads as a whole name; LeadSquared keeps it in the {words.label}'
    else:
        reason = f'"{header}" is like "{named.name}"'
    agrees = _values_agree(words, profile)
    if agrees is True:
        lifted = score + VALUES_BONUS
        # values alone never turn a vague name ("Expected Close Date" ~ "date") into a placement
        score = lifted if named.score >= LIFT_FROM else min(lifted, PLACE - 0.01)
        reason += f"; its values are {profile.describe()}"
    elif agrees is False:
        score *= VALUES_PENALTY
        reason += f", but its values are {profile.describe()}"
    return _Score(round(min(score, 1.0), 3), reason)


def _values_agree(words: FieldWords, profile: ColumnProfile) -> bool | None:
    """True/False when the values say yes or no to the field, None when they cannot tell."""
    if not profile.filled:
        return None
    kind = profile.type
    if words.type == "email":
        return kind == "email"
    if words.type == "phone":
        if kind != "phone":
            return False if kind not in ("integer", "number") else None
        if words.target != "lead.Mobile" or profile.mobile_like >= 0.5:
            return True
        # a country's landlines are not mobiles; numbers of no one country cannot tell
        return False if profile.phone_country else None
    if words.type in ("date", "datetime"):
        return kind in ("date", "datetime")
    if words.target == STATUS_FIELD:
        return set(profile.values) <= {"open", "won", "lost"} or None
    if kind in ("email", "phone", "date", "datetime"):
        return False  # a name, city or note column does not hold these
    return None


# ---------------------------------------------------------------- placing


def draft_mapping(
    headers: list[str], profiles: dict[str, ColumnProfile], duplicated: set[str] | None = None
) -> Draft:
    """Place the columns that clearly name a field; hold the rest for the user."""
    duplicated = duplicated or set()
    usable = [h for h in headers if h not in duplicated]
    scores = {
        (header, words.target): score_column(header, words, profiles[header])
        for header in usable
        for words in FIELDS
    }
    by_target = {words.target: words for words in FIELDS}
    placed: list[Placement] = []
    held: list[Hold] = []
    used: set[str] = set()
    closed: set[str] = set()  # fields already placed, tied or offered
    ranked = sorted(scores.items(), key=lambda item: -item[1].score)
    for (header, target), found in ranked:
        if found.score < WEAK:
            break
        if header in used or target in closed:
            continue
        rivals = [
            other
            for other in usable
            if other != header
            and other not in used
            and scores[(other, target)].score >= max(WEAK, found.score - TIE)
        ]
        words = by_target[target]
        if rivals:
            tied = [header, *rivals]
            reason = (
                f"{_quoted(tied)} fit the {words.label} equally well; keep the one that holds it"
            )
            held.append(Hold(tied, target, found.score, reason, _rules(words, profiles[header])))
            used.update(tied)
        elif found.score < PLACE:
            reason = f"maybe: {found.reason}"
            held.append(
                Hold([header], target, found.score, reason, _rules(words, profiles[header]))
            )
            used.add(header)
        else:
            profile = profiles[header]
            rules = _rules(words, profile)
            reason = found.reason
            if rules.get("required"):  # a guess from the rows looked at: said, not hidden
                reason += f"; required: all {profile.rows} rows looked at are filled"
            placed.append(Placement(header, target, found.score, reason, rules))
            used.add(header)
        closed.add(target)
    for header in headers:
        if header not in used:
            held.append(_unknown(header, profiles[header], header in duplicated))
    draft = Draft(placed, held, None, [], None)
    _whole_file_rules(draft, profiles)
    order = {header: i for i, header in enumerate(headers)}
    draft.placed.sort(key=lambda p: order[p.column])
    return draft


def _unknown(header: str, profile: ColumnProfile, duplicated: bool) -> Hold:
    if duplicated:
        reason = f'"{header}" appears more than once in the file; rename the copies first'
        return Hold([header], None, 0.0, reason)
    reason = f"no LeadSquared field known for it; its values are {profile.describe()}"
    return Hold([header], None, 0.0, reason, rules_of_type(profile.type, profile))


def _rules(words: FieldWords, profile: ColumnProfile) -> dict[str, object]:
    """The rules proposed for a column placed on a known field (free text gets no list)."""
    return rules_of_type(words.type, profile, choices=not words.free_text)


def rules_of_type(
    kind: FieldType, profile: ColumnProfile, *, choices: bool = True
) -> dict[str, object]:
    """`type`, `format`, `required` and (for a column of few values) `allowed`."""
    rules: dict[str, object] = {}
    if kind != "string":
        rules["type"] = kind
    if kind in ("date", "datetime") and profile.formats:
        rules["format"] = profile.formats[0] if len(profile.formats) == 1 else profile.formats
    if profile.filled and not profile.blank:
        rules["required"] = True
    listed = profile.choices() if choices and kind == "string" else None
    if listed:
        rules["allowed"] = listed
    return rules


def _whole_file_rules(draft: Draft, profiles: dict[str, ColumnProfile]) -> None:
    """search_by, unique, default_country, and the Won/Lost comment rule."""
    by_target = {p.target: p for p in draft.placed}
    draft.search_by = next(
        (target.split(".", 1)[1] for target in SEARCH_FIELDS if target in by_target), None
    )
    if draft.search_by is not None:
        key = by_target[f"lead.{draft.search_by}"]
        key.rules["required"] = True  # LeadSquared cannot find the lead without it
        if NAME_FIELD in by_target:
            draft.unique = [draft.search_by, NAME_FIELD.split(".", 1)[1]]
        elif profiles[key.column].all_different:
            draft.unique = [draft.search_by]
        else:
            draft.notes.append(
                f"unique: each {key.column} appears on several rows, and no opportunity "
                "name column was found to tell them apart; add `unique:` once one is mapped"
            )
        _offer_name_column(draft, profiles)
    phones = [
        profiles[p.column] for p in draft.placed if p.rules.get("type") == "phone" and p.column
    ]
    countries = {profile.phone_country for profile in phones}
    if len(countries) == 1:
        draft.default_country = countries.pop()  # None when no one country fits
    status, comment = by_target.get(STATUS_FIELD), by_target.get(COMMENT_FIELD)
    if status is not None and comment is not None:
        allowed = status.rules.get("allowed")
        closing = [
            state
            for state in (allowed if isinstance(allowed, list) else STATUS_COMMENT_STATES)
            if str(state).casefold() in {s.casefold() for s in STATUS_COMMENT_STATES}
        ]
        if closing:
            comment.rules.pop("required", None)
            comment.rules["required_if"] = {"Status": closing}


def _offer_name_column(draft: Draft, profiles: dict[str, ColumnProfile]) -> None:
    """With no opportunity name column, point at a column that could be one (never placed)."""
    if any(p.target == NAME_FIELD for p in draft.placed) or any(
        hold.target == NAME_FIELD for hold in draft.held
    ):
        return
    for hold in draft.held:
        if hold.target is not None or len(hold.columns) != 1:
            continue
        header = hold.columns[0]
        profile = profiles[header]
        words = set(header.casefold().replace(".", " ").split())
        if profile.type in ("string", "integer") and profile.all_different and not profile.blank:
            if words & _IDENTIFYING_WORDS:
                hold.target = NAME_FIELD
                hold.confidence = 0.5
                hold.reason = (
                    "maybe the opportunity name (mx_Custom_1): its values are all different"
                )
                return


def _quoted(columns: list[str]) -> str:
    names = [f'"{column}"' for column in columns]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
