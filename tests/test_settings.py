"""Settings: one section per stage, limits declared once, the CLI built from the fields."""

from __future__ import annotations

import dataclasses

import pytest
import typer.main

from dedup.cli import app
from dedup.settings import SECTIONS, Settings, field_of


def test_fields_are_found_by_name_whatever_their_section():
    s = Settings.of(window_threshold=0.25, shingle_size=4, paraphrase=False)
    assert s.candidates.window_threshold == 0.25 and s.sketch.shingle_size == 4 and not s.paraphrase.paraphrase
    assert Settings().candidates.window_threshold == 0.3   # defaults untouched


@pytest.mark.parametrize("values, message", [
    ({"window_threshold": 1.5}, "window-threshold must be in (0, 1], got 1.5"),
    ({"window_threshold": 0.0}, "window-threshold must be in (0, 1], got 0.0"),
    ({"window_words": 1}, "window-words must be in [2, 10000], got 1"),
    ({"shingle_size": 2.5}, "shingle-size must be a whole number"),
    ({"lsh": "faiss"}, "lsh must be one of numpy, datasketch"),
    ({"chrome_min_docs": 1}, "chrome-min-docs must be >= 2"),
    ({"no_such_thing": 1}, "unknown setting 'no_such_thing'"),
    ({"shingle_size": 12}, "min-passage-words must be at least shingle-size"),
])
def test_bad_values_are_refused_with_the_limit_in_the_message(values, message):
    with pytest.raises(ValueError) as err:
        Settings.of(**values)
    assert message in str(err.value)


def test_every_field_has_help_and_sections_are_frozen():
    for section in SECTIONS:
        for f in dataclasses.fields(section):
            assert f.metadata.get("help"), f"{section.__name__}.{f.name} has no help"
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().sketch.shingle_size = 3   # type: ignore[misc]


def test_cli_options_match_their_fields():
    """Each scan option that names a setting has the field's default and help."""
    command = typer.main.get_command(app)
    scan = command.commands["scan"]
    names = {f.name for section in SECTIONS for f in dataclasses.fields(section)}
    checked = 0
    for param in scan.params:
        if param.name in names and not param.name.startswith("_"):
            f = field_of(param.name)
            assert param.default == f.default, param.name
            assert param.help.startswith(f.metadata["help"]), param.name
            checked += 1
    assert checked >= 8


def test_settings_round_trip_through_json():
    s = Settings.of(window_threshold=0.25)
    restored = Settings(**{name: type(getattr(s, name))(**values) for name, values in s.to_json().items()})
    assert restored == s
