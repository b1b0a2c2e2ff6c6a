# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One vocabulary per option: every copy of a role option's choices and default says what meta/argument_specs.yml says.

Python that checks or defaults a role variable reads argument_specs.yml (plugin_utils/role_options.py). What must stay
literal is tied here: the role's defaults/main.yml and vars/main.yml (Ansible applies them), module_utils option specs
and module documentation fragments (ansible-test checks module docs against them), and the filters' .yml documentation.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.doc_fragments.egress_set import ModuleDocFragment
from ansible_collections.meshops.aws_egress.plugins.module_utils import egress_set_options, egress_simulate_options
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import role_options

ROOT = pathlib.Path(__file__).parents[4]
ROLE = ROOT / "roles" / "istio_aws_egress"
P = role_options.PREFIX


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _filter_options(name):
    return _yaml(ROOT / "plugins" / "filter" / f"{name}.yml")["DOCUMENTATION"]["options"]


def _sub(spec, key):
    """A suboption of a module_utils spec (`options`) or of a documentation (`suboptions`, or `options` in role docs)."""
    return (spec.get("options") or spec.get("suboptions"))[key]


# The options of the modules and documentation that describe an egress set "as the role's variables do": same names.
MIRRORED = (
    "namespace",
    "mode",
    "caller_namespaces",
    "wildcard_resolution",
    "sidecars",
    "sidecar_hosts",
    "export_to",
    "services",
    "regions",
    "account_ids",
    "credential_sources",
    "fips",
    "dualstack",
    "sts_legacy_global",
    "vpc_endpoints",
)

# credential_sources are checked by the aws_endpoints filter they are passed to (a misspelt one gets a "did you mean"),
# so the modules declare no choices for them; the filter's documentation does.
CHECKED_BY_THE_FILTER = ("credential_sources",)


def _copied(name):
    return ("default",) if name in CHECKED_BY_THE_FILTER else ("choices", "default")


# (where, the copy's spec, the role option path it copies, what it copies): each copy of a choice list or default.
COPIES = [
    *[
        (f"egress_simulate_options.{name}", egress_simulate_options.OPTIONS[name], (name,), _copied(name))
        for name in MIRRORED
    ],
    *[
        (
            f"doc_fragments/egress_set.py {name}",
            yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"][name],
            (name,),
            _copied(name),
        )
        for name in MIRRORED
    ],
    *[
        (
            f"egress_simulate_options.gateway.{key}",
            egress_simulate_options.GATEWAY_OPTIONS[key],
            ("gateway", key),
            ("default",),
        )
        for key in ("namespace", "service", "selector")
    ],
    *[
        (
            f"doc_fragments/egress_set.py gateway.{key}",
            _sub(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["gateway"], key),
            ("gateway", key),
            ("default",),
        )
        for key in ("namespace", "service", "selector")
    ],
    ("egress_set_options.state", egress_set_options.OPTIONS["state"], ("state",), ("choices", "default")),
    ("egress_set_options.prune", egress_set_options.OPTIONS["prune"], ("prune",), ("default",)),
    ("egress_set_options.adopt", egress_set_options.OPTIONS["adopt"], ("adopt",), ("default",)),
    (
        "egress_set_options.api_version",
        egress_set_options.OPTIONS["api_version"],
        ("api_version",),
        ("choices", "default"),
    ),
    ("egress_set_options.accept", egress_set_options.OPTIONS["accept"], ("accept",), ("choices", "default")),
    ("egress_set_options.exclude_hosts", egress_set_options.OPTIONS["exclude_hosts"], ("exclude_hosts",), ("default",)),
    ("egress_set_options.lock_timeout", egress_set_options.OPTIONS["lock_timeout"], ("lock", "timeout"), ("default",)),
    (
        "egress_set_options.lock_duration",
        egress_set_options.OPTIONS["lock_duration"],
        ("lock", "duration"),
        ("default",),
    ),
    (
        "_egress_files.yml wildcard_resolution",
        _filter_options("_egress_files")["wildcard_resolution"],
        ("wildcard_resolution",),
        ("choices",),
    ),
    (
        "egress_set_options.apply_concurrency",
        egress_set_options.OPTIONS["apply_concurrency"],
        ("apply_concurrency",),
        ("default",),
    ),
    *[
        (f"_egress_layout.yml {name}", _filter_options("_egress_layout")[name], (name,), ("choices",))
        for name in ("mode", "network_policy", "wildcard_resolution")
    ],
    *[
        (f"_egress_layout.yml {name}", _filter_options("_egress_layout")[name], (name,), ("default",))
        for name in (
            "mode",
            "network_policy",
            "sidecars",
            "export_to",
            "sidecar_hosts",
            "network_policy_egress",
            "internet_path",
            "caller_namespaces",
            "exclude_hosts",
            "log_blocked",
        )
    ],
    (
        "aws_endpoints.yml credential_sources",
        _filter_options("aws_endpoints")["credential_sources"],
        ("credential_sources",),
        ("choices",),
    ),
    ("_plan_lines.yml state", _filter_options("_plan_lines")["state"], ("state",), ("choices", "default")),
]


@pytest.mark.parametrize("where, copy, path, keys", COPIES, ids=[copy[0] for copy in COPIES])
def test_every_copy_says_what_the_argument_spec_says(where, copy, path, keys):
    declared = role_options.spec(*path)
    for key in keys:
        if key == "default" and path[0] == "gateway":
            # The suboptions have no default of their own: the gateway option's default dict holds them.
            expected = role_options.default("gateway")[path[1]]
        else:
            expected = declared.get(key)
        found = copy.get(key)
        if key == "choices" and found is not None:
            found = list(found)
        assert found == expected, (
            f"{where}: {key} {found!r}, but argument_specs.yml {P}{'.'.join(path)} has {expected!r}"
        )


def test_the_role_defaults_are_the_declared_ones():
    """Ansible applies defaults/main.yml, not the argument spec's defaults: both must say the same."""
    defaults = _yaml(ROLE / "defaults" / "main.yml")
    declared = role_options.options()
    assert sorted(name for name in defaults if not name.startswith(P)) == []
    for name, value in defaults.items():
        assert value == declared[name[len(P) :]].get("default"), name
    # Every declared default is applied, but for the deprecated names, which must stay unset to be noticed.
    missing = [name for name, spec in declared.items() if spec.get("default") is not None and P + name not in defaults]
    assert missing == []


def test_the_gateway_a_partial_value_completes_is_the_declared_default():
    assert _yaml(ROLE / "vars" / "main.yml")["__istio_aws_egress_gateway_defaults"] == role_options.default("gateway")


def test_the_rbac_entry_point_declares_its_options_as_the_main_one_does():
    main = role_options.options()
    for name, spec in role_options.options("rbac").items():
        for key in ("choices", "default"):
            if key in spec and name != "rbac_subject":
                assert spec[key] == main[name][key], f"{name}: {key}"
    assert role_options.choices("rbac_subject", "kind", entry_point="rbac") == role_options.choices(
        "rbac_subject", "kind"
    )


@pytest.mark.parametrize(
    "module, name, path",
    [
        ("egress.layout.resources", "MODES", ("mode",)),
        ("egress.layout.policies", "MODES", ("network_policy",)),
        ("egress.layout.wildcards", "CHOICES", ("wildcard_resolution",)),
        ("egress.rbac.rules", "SUBJECT_KINDS", ("rbac_subject", "kind")),
    ],
)
def test_the_code_checks_the_declared_choices(module, name, path):
    loaded = importlib.import_module(f"ansible_collections.meshops.aws_egress.plugins.plugin_utils.{module}")
    assert getattr(loaded, name) == role_options.choices(*path)


def test_the_code_applies_the_declared_defaults():
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import policies, resources

    assert list(resources.DEFAULT_SIDECAR_HOSTS) == role_options.default("sidecar_hosts")
    assert policies.DEFAULT_DNS == role_options.default("network_policy_peers", "dns")
    assert policies.DEFAULT_ISTIOD == role_options.default("network_policy_peers", "istiod")


def test_a_default_is_a_copy_callers_may_change():
    role_options.default("gateway")["namespace"] = "changed"
    assert role_options.default("gateway")["namespace"] == "istio-system"


def test_egress_set_takes_the_role_s_wildcard_resolution_and_its_deprecated_word():
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards

    option = egress_set_options.OPTIONS["wildcard_resolution"]
    assert option["choices"] == [*role_options.choices("wildcard_resolution"), wildcards.DEPRECATED_CHOICE]
    # Left out, the resolution is written as the resources declare it, as before.
    assert option["default"] == "none"
    assert "removed in 1.0.0" in " ".join(
        yaml.safe_load(
            importlib.import_module("ansible_collections.meshops.aws_egress.plugins.modules.egress_set").DOCUMENTATION
        )["options"]["wildcard_resolution"]["description"]
    )


def _effective_default(name):
    """What a variable left out amounts to: a dict whose keys left out keep their defaults shows those."""
    spec = role_options.spec(name)
    keys = spec.get("options") or {}
    if spec.get("default") == {} and keys and all("default" in key for key in keys.values()):
        return {key: value["default"] for key, value in keys.items()}
    return role_options.default(name)


def _readme_defaults():
    """{variable: the default the role README's table of variables shows}, `unset` as None."""
    rows = {}
    for line in (ROLE / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if len(cells) < 3 or not cells[0].startswith(f"`{P}") or not (cells[1].startswith("`") or cells[1] == "unset"):
            continue
        names = [part.strip(" `") for part in cells[0].split(",")]
        value = None if cells[1] == "unset" else yaml.safe_load(cells[1].strip("`"))
        for name in names:
            rows[name if name.startswith(P) else P + name.lstrip("_")] = value
    return rows


def test_the_role_readme_shows_the_declared_defaults():
    shown = _readme_defaults()
    assert len(shown) >= 30
    for name, value in shown.items():
        assert value == _effective_default(name[len(P) :]), name


def test_egress_set_s_request_defaults_are_the_declared_ones():
    """What a Request left out of the module's arguments gets (tests, other callers) is what the role declares."""
    import dataclasses
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.rollout import Request

    defaults = {f.name: f.default for f in dataclasses.fields(Request) if f.default is not dataclasses.MISSING}
    assert (defaults["lock_timeout"], defaults["lock_duration"]) == (
        role_options.default("lock", "timeout"),
        role_options.default("lock", "duration"),
    )
    assert {key: defaults[key] for key in ("state", "prune", "adopt", "api_version")} == {
        key: role_options.default(key) for key in ("state", "prune", "adopt", "api_version")
    }
    assert defaults["wildcard_resolution"] in role_options.choices("wildcard_resolution")


def test_the_rollout_lease_module_documents_the_declared_lease_defaults():
    """ansible-test ties the module's documentation to its argument spec; this ties both to the role's."""
    documented = yaml.safe_load(
        importlib.import_module("ansible_collections.meshops.aws_egress.plugins.modules._rollout_lease").DOCUMENTATION
    )["options"]
    for key in ("timeout", "duration"):
        assert documented[key]["default"] == role_options.default("lock", key), key
