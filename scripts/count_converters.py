"""Lines of the code that converted options between config forms before issue 19 (the sweep's
option table and schedule-string rewriting, RunOptions.experiment (now
RunCommand.experiment: RunOptions became ExperimentConfig itself), the schedule parsers, the
catalog's factories' parsing), counted by name in the tree it runs in.

    python scripts/count_converters.py          # in this tree
    python scripts/count_converters.py --parser # with the one schedule parser too
    python scripts/count_converters.py --names  # each counted definition, with its lines
    git stash; python scripts/count_converters.py; git stash pop   # or on another commit

A name that no longer exists counts 0; a name that stayed counts its current length; code
that moved under a new name (a factory's presets onto the settings fields, say) is named too.

Not counted: the one text parser of schedules that the design keeps (issue 19: "parsed in one
place"), ``agents.specs.parse_schedule``, ``parse_commitment`` and its ``_whole`` (69 lines):
:data:`PARSER` names it, and ``--parser`` adds it back to the count.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {
    "agents/compose/sweeps/spec.py": [
        "_text", "_number", "_count", "_nonneg_int", "_nonneg_float", "_float", "_flag", "_spec",
        "_record", "_kwarg_value", "_game_kwargs", "_game_kwarg", "OPTIONS", "_ALIASES",
        "_SPEC_OPTIONS", "_option_name", "_convert", "config_from_options", "_num_text",
        # _Key.slot (counted with _Key): where a key's value sits among the config's keyword
        # arguments (a learner's option in its role's options), what from_flat did once the
        # sweep had pre-filled every key; the sweep now builds ExperimentConfig's arguments.
        "_spec_fields", "_set_spec_field", "_Key",
    ],
    # _record_text: _convert's special case for record (an int as its text), moved into the
    # record field's type (read by the one coerce). options.py (RunOptions) is gone: its fields
    # are ExperimentConfig's, whose module now holds _record_text.
    "agents/compose/experiments/options.py": [
        "experiment", "parse_game_kwarg", "_record_text", "from_flat", "_same",
    ],
    # from_flat: a sweep configuration's flat keys into the learners' option dicts, what the
    # sweep's option table (OPTIONS, _SPEC_OPTIONS, _spec_fields) did; counted since 2adac4b
    # (it was RunOptions.from_flat, left out before: an omission).
    "agents/compose/experiments/experiment.py": ["_record_text", "from_flat", "_same"],
    # The command's config without how the run is written (what RunOptions.experiment was).
    "agents/compose/cli/commands.py": ["experiment"],
    "agents/specs.py": ["_parse_fields", "_Ceil"],
    "agents/catalog.py": [
        "_spsa_kwargs", "_gradient_leader", "_lola", "_follower_step", "_SPSA_OPTIONS",
        # The gradient leaders' and the LOLA pair's presets, moved from their factories onto
        # the settings fields (catalog.preset); the filling itself is the generic
        # catalog.fill_presets.
        "_leader_step", "_lola_partner_step",
        # _spsa_kwargs' presets, moved onto HiCSettings' fields the same way (the oracle's
        # commitment of 1 is OracleSettings' preset, a lambda on the field).
        "_spsa_preset", "_spsa_baseline", "_fit_commitment",
    ],
}  # fmt: skip
#: Modules that held converters and are gone (they count 0); any other module in NAMES that
#: is missing stops the script, so a file moved elsewhere is never counted as 0 lines.
GONE = {"agents/compose/experiments/options.py"}
#: The one text parser of schedules (kept by design; counted only with --parser).
PARSER = {"agents/specs.py": ["parse_schedule", "parse_commitment", "_whole"]}


def found(path: Path, names: list[str]) -> list[tuple[str, int, int]]:
    """``(name, first line, lines)`` of the top-level or nested definitions and assignments
    called ``names``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        name = getattr(node, "name", None)
        if name is None and isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            name = getattr(target, "id", None)
        if name in names:
            out.append((name, node.lineno, node.end_lineno - node.lineno + 1))
    return sorted(out, key=lambda row: row[1])


def count(path: Path, names: list[str]) -> int:
    """Lines of the top-level or nested definitions and assignments called ``names``."""
    return sum(n for _, _, n in found(path, names))


def main() -> None:
    names_by_file = {k: list(v) for k, v in NAMES.items()}
    if "--parser" in sys.argv[1:]:
        for rel, names in PARSER.items():
            names_by_file.setdefault(rel, []).extend(names)
    total = 0
    for rel, names in names_by_file.items():
        path = ROOT / rel
        if not path.exists() and rel not in GONE:
            sys.exit(f"count_converters: {rel} is missing; if it is gone, add it to GONE")
        rows = found(path, names) if path.exists() else []
        n = sum(lines for _, _, lines in rows)
        total += n
        print(f"{rel:45s} {n:4d}")
        if "--names" in sys.argv[1:]:
            for name, line, lines in rows:
                print(f"    {name:41s} {lines:4d}  (line {line})")
    print(f"{'total':45s} {total:4d}")


if __name__ == "__main__":
    main()
