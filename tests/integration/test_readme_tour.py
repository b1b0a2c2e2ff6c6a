# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's five-minute tour, as a user follows it: the collection installed by the README's own install commands
into a home directory of its own, the tour's inventory.yml and playbook.yml written as the README shows them, its
commands run exactly as written with Ansible's defaults, against a cluster of its own reached through the context the
inventory names in ~/.kube/config. What the tour says the output shows is checked, and what the API server recorded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import KINDS
from conftest import ROOT
from doc_helpers import clone, commands, installed_collection, section, shell, shell_env
from hardening_helpers import scratch_clusters, user_kubeconfig
from role_helpers import OURS, RoleRun, writes
from runbook_helpers import changed, readable, succeeded
from test_role_check_mode import diffs

pytestmark = pytest.mark.integration

README = ROOT / "README.md"


def tour() -> tuple[dict[str, str], list[str]]:
    """The tour's files (name -> text, the name from the comment that opens each YAML block) and its commands."""
    text = section(README, "A five-minute tour")
    files = {
        re.match(r"# ([\w.]+)", block).group(1): block for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    }
    return files, commands(text)


def sh(command: str, cwd: Path, env: dict) -> RoleRun:
    done = shell(command, cwd, env)
    return RoleRun(done.returncode, done.stdout, done.stderr)


def ours(cluster) -> set[str]:
    """'Kind namespace/name' of every object of the collection's on the cluster."""
    kinds = ",".join(kind.describe() for kind in KINDS)
    items = json.loads(cluster.kubectl("get", kinds, "-A", "-l", OURS, "-o", "json").stdout)["items"]
    return {f"{o['kind']} {o['metadata']['namespace']}/{o['metadata']['name']}" for o in items}


def planned(run: RoleRun, sign: str) -> set[str]:
    """'Kind namespace/name' of the plan's lines of one sign (+ create, ~ update, - prune), as the callback printed them."""
    return set(re.findall(rf'^\s*"{re.escape(sign)} (\S+ \S+)",?$', run.stdout, re.MULTILINE))


def notes(run: RoleRun) -> list[str]:
    return re.findall(r'^\s*"(! [^"]*)",?$', run.stdout, re.MULTILINE)


def test_the_five_minute_tour_as_written(tmp_path):
    files, (check, apply, again) = tour()
    assert sorted(files) == ["inventory.yml", "playbook.yml"]
    assert check == "ansible-playbook -i inventory.yml playbook.yml --check --diff   # the plan: writes nothing"
    [(host, variables)] = yaml.safe_load(files["inventory.yml"])["clusters"]["hosts"].items()
    [play] = yaml.safe_load(files["playbook.yml"])
    services = play["roles"][0]["vars"]["istio_aws_egress_services"]
    [region] = play["roles"][0]["vars"]["istio_aws_egress_regions"]

    # Installed as the README's Install section says, from the built tarball, into the user's home.
    home = tmp_path / "home"
    home.mkdir()
    env = shell_env(home)
    checkout = clone(tmp_path)
    for command in commands(section(README, "Install"))[:-1]:  # the last one installs from git instead
        done = sh(command, checkout, env)
        assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (installed_collection(home) / "MANIFEST.json").exists()

    workdir = tmp_path / "tour"
    workdir.mkdir()
    for name, text in files.items():
        (workdir / name).write_text(text)
    # Ansible's defaults: an empty ansible.cfg where the commands run, and none in the home directory.
    (workdir / "ansible.cfg").write_text("")

    with scratch_clusters("tour") as [cluster]:
        (home / ".kube").mkdir()
        user_kubeconfig(cluster, "admin", home / ".kube" / "config", context=variables["istio_aws_egress_context"])

        # The plan: one line per resource, each created object whole, nothing written.
        cluster.audit.mark()
        plan = succeeded(readable(sh(check, workdir, env), 1))
        assert writes(cluster.audit) == []
        assert plan.said(f"Egress set default on {host}, networking.istio.io/v1 (check mode: nothing is written)")
        creates = planned(plan, "+ create")
        assert planned(plan, "~ update") == planned(plan, "- prune") == set()
        assert plan.said(f"{len(creates)} to create, 0 to update, 0 to adopt, 0 to prune, 0 unchanged")
        assert set(diffs(plan.stdout)) == creates
        assert all("@@ -0,0 +1," in diff and "\n+kind: " in diff for diff in diffs(plan.stdout).values())
        for service in services:
            assert f"ServiceEntry istio-system/aws-default-{service}-{region}" in creates, creates

        # Applied: what the plan said, and each note once.
        applied = succeeded(readable(sh(apply, workdir, env), 1))
        assert changed(applied) == {host: 1}
        assert ours(cluster) == creates
        said = notes(applied)
        assert len(said) == len(set(said)), said

        # Again: nothing to change, not one write, the notes counted.
        cluster.audit.mark()
        rerun = succeeded(readable(sh(again, workdir, env), 1))
        assert changed(rerun) == {host: 0} and writes(cluster.audit) == []
        counted = [
            note
            for note in notes(rerun)
            if note.startswith(
                f"! {len(said)} note{'s' if len(said) > 1 else ''}, shown when the plan writes (or with -v)"
            )
        ]
        assert notes(rerun) == counted and len(counted) == (1 if said else 0), rerun.stdout
        # -v prints them, as the run that wrote did.
        assert notes(succeeded(sh(f"{again.split('#')[0].strip()} -v", workdir, env))) == said

        # The user drops a service, and someone edits an entry by hand: the plan shows the pruned object whole and
        # the edited one's changed field.
        dropped, edited = services[-1], services[0]
        fewer = files["playbook.yml"].replace(f", {dropped}]", "]")
        assert fewer != files["playbook.yml"]
        (workdir / "playbook.yml").write_text(fewer)
        cluster.kubectl(
            "patch",
            "serviceentries.networking.istio.io",
            f"aws-default-{edited}-{region}",
            "-n",
            "istio-system",
            "--type=merge",
            "-p",
            '{"spec": {"exportTo": ["."]}}',
        )
        cluster.audit.mark()
        replan = succeeded(readable(sh(check, workdir, env), 1))
        assert writes(cluster.audit) == []
        pruned, updated = (f"ServiceEntry istio-system/aws-default-{service}-{region}" for service in (dropped, edited))
        assert planned(replan, "- prune") == {pruned} and planned(replan, "~ update") == {updated}
        assert planned(replan, "+ create") == set()
        shown = diffs(replan.stdout)
        assert set(shown) == {pruned, updated}
        assert ",0 @@" in shown[pruned] and "\n-kind: ServiceEntry" in shown[pruned]
        assert [line for line in shown[updated].splitlines()[3:] if line[:1] in "+-"] == ["-  - .", "+  - '*'"], shown[
            updated
        ]
