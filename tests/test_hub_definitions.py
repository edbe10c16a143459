"""The Hub definitions (hub/), `--about`, meltano.yml and README.md agree; each file validates.

The definitions validate against the Meltano Hub's JSON schemas and yamllint config
(vendored in hub/schemas/), and meltano.yml against the schema the meltano package ships.
"""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
import typing as t
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from target_s3.target import TargetS3

from tap_asos import __version__
from tap_asos.settings import CONFIG_SCHEMA
from tap_asos.tap import TapAsos
from tests.helpers import plugin_about

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "hub"
PLUGINS: dict[str, tuple[Path, str, type[PluginBase]]] = {
    # plugin type: (definition, executable, plugin class)
    "extractors": (HUB / "extractors" / "tap-asos.yml", "tap-asos", TapAsos),
    "loaders": (HUB / "loaders" / "target-s3.yml", "target-s3", TargetS3),
}


def _own_settings(plugin_type: str) -> set[str]:
    """The plugin's settings less those the SDK adds to every plugin of its kind.

    (Not `config_jsonschema`: the SDK appends its settings to that class attribute in place.)
    """
    _, executable, plugin_class = PLUGINS[plugin_type]
    builtin: dict[str, t.Any] = {"properties": {}}
    plugin_class.append_builtin_config(builtin)
    return set(plugin_about(executable)["settings"]["properties"]) - set(builtin["properties"])


def _definition(plugin_type: str) -> dict[str, t.Any]:
    result: dict[str, t.Any] = yaml.safe_load(PLUGINS[plugin_type][0].read_text())
    return result


def _meltano_plugin(plugin_type: str, name: str) -> dict[str, t.Any]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin: dict[str, t.Any] = next(p for p in project["plugins"][plugin_type] if p["name"] == name)
    return plugin


def _meltano_schema() -> dict[str, t.Any]:
    text = (importlib.resources.files("meltano") / "schemas" / "meltano.schema.json").read_text()
    schema: dict[str, t.Any] = json.loads(text)
    return schema


def test_definitions_are_what_the_generator_writes_from_about() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "hub_definitions.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr


@pytest.mark.parametrize("plugin_type", sorted(PLUGINS))
def test_definition_settings_are_the_about_settings(plugin_type: str) -> None:
    path, executable, _ = PLUGINS[plugin_type]
    about = plugin_about(executable)
    definition = _definition(plugin_type)
    settings = {s["name"]: s for s in definition["settings"]}
    assert len(settings) == len(definition["settings"]), "a setting is listed twice"
    properties = about["settings"]["properties"]
    # Every top-level property is a setting, or the prefix of dotted ones (batch_config.*).
    for name in properties:
        assert name in settings or any(s.startswith(f"{name}.") for s in settings), name
    for name, setting in settings.items():
        assert setting["description"], f"{path.name}: {name} has no description"
        prop = properties.get(name)
        if prop is None:  # a nested SDK setting
            assert name.split(".")[0] in properties, name
            continue
        assert setting["description"] == prop.get("description", ""), name
        assert setting["label"] == prop.get("title", setting["label"]), name
        assert setting.get("sensitive", False) == bool(prop.get("writeOnly")), name
        assert setting.get("value") == prop.get("default"), name
    assert sorted(definition["capabilities"]) == sorted(about["capabilities"])
    assert definition["settings_group_validation"] == [sorted(about["settings"]["required"])]
    assert definition["supported_python_versions"] == about["supported_python_versions"]
    assert definition["executable"] == executable
    assert about["version"] == __version__


def _registry() -> Registry:
    resources = []
    for path in sorted((HUB / "schemas").glob("*/*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema, DRAFT7)))
    registry: Registry = Registry().with_resources(resources)
    return registry


@pytest.mark.parametrize("plugin_type", sorted(PLUGINS))
def test_definition_validates_against_the_hubs_schema(plugin_type: str) -> None:
    schema_path = HUB / "schemas" / "plugin_definitions" / f"{plugin_type}.schema.json"
    schema = json.loads(schema_path.read_text())
    validator = jsonschema.Draft7Validator(schema, registry=_registry())
    errors = [
        f"{e.json_path}: {e.message}" for e in validator.iter_errors(_definition(plugin_type))
    ]
    assert not errors


def test_definitions_pass_the_hubs_yamllint() -> None:
    lint = subprocess.run(
        [
            str(Path(sys.executable).with_name("yamllint")),
            "--strict",
            "-c",
            str(HUB / "schemas" / "yamllint.yaml"),
            *(str(path) for path, _, _ in PLUGINS.values()),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout


@pytest.mark.parametrize(
    ("plugin_type", "name"), [("extractors", "tap-asos"), ("loaders", "target-s3")]
)
def test_meltano_yml_declares_the_plugin_as_its_definition_does(
    plugin_type: str, name: str
) -> None:
    definition = _definition(plugin_type)
    plugin = _meltano_plugin(plugin_type, name)
    for key in ("namespace", "executable", "settings_group_validation"):
        assert plugin.get(key) == definition[key], key
    # Capabilities: the definition's, less those Meltano's meltano.yml schema does not list.
    known = _known_capabilities(plugin_type)
    assert set(plugin["capabilities"]) == set(definition["capabilities"]) & known
    hub = {s["name"]: s for s in definition["settings"]}
    declared = {s["name"]: s for s in plugin["settings"]}
    own = _own_settings(plugin_type)
    assert own <= set(declared), f"meltano.yml lacks {sorted(own - set(declared))}"
    for setting_name, setting in declared.items():
        assert setting_name in hub, setting_name
        for key in ("kind", "label", "description", "value", "options"):
            assert setting.get(key) == hub[setting_name].get(key), (setting_name, key)
        assert setting.get("sensitive", False) == hub[setting_name].get("sensitive", False)


def _known_capabilities(plugin_type: str) -> set[str]:
    """The capabilities meltano.schema.json allows for this plugin type."""
    plugin_schema = _meltano_schema()["$defs"]["plugins"][plugin_type]
    parts = [p.get("properties", {}).get("capabilities") for p in plugin_schema["allOf"]]
    enums = [set(part["items"]["enum"]) for part in parts if part]
    assert len(enums) == 1, "meltano.schema.json changed shape"
    return enums[0]


def test_readme_agrees_with_the_definitions() -> None:
    readme = (ROOT / "README.md").read_text()
    tap = _definition("extractors")
    for setting in tap["settings"]:
        if setting["name"] in CONFIG_SCHEMA["properties"]:
            row = f"| {setting['name']} | "
            assert row in readme, setting["name"]
            line = next(line for line in readme.splitlines() if line.startswith(row))
            assert line.endswith(f"| {setting['description']} |"), setting["name"]
    for plugin_type, (path, _, _) in PLUGINS.items():
        definition = _definition(plugin_type)
        command = (
            f"meltano add --plugin-type {plugin_type[:-1]} "
            f"--from-ref {path.relative_to(ROOT)} {definition['name']}"
        )
        assert command in readme, command
        assert f"pip_url: {definition['pip_url']}" in readme, definition["pip_url"]
    assert f"`{tap['variant']}`" in readme


def test_meltano_yml_validates_against_meltanos_schema() -> None:
    schema = _meltano_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    errors = [f"{e.json_path}: {e.message[:300]}" for e in validator.iter_errors(project)]
    assert not errors
