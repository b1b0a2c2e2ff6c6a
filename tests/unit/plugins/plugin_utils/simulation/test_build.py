# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding or building the harness: keyed by its source and the Go version, built once, whole, and refused when foreign.

A `go` of our own stands in for the toolchain here (it writes a script that answers `-version` as a built harness
does); tests/integration/test_artifact.py builds the real one from the installed collection.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import build, harness

FAKE_GO = """#!/bin/sh
# `go env GOVERSION` and `go test -c ... -ldflags "... -X pkg.sourceHash=H ..." -o OUT .`, nothing else.
if [ "$1" = env ]; then echo "{version}"; exit 0; fi
echo "$@" >> "{calls}"
out=""; hash=""
while [ $# -gt 0 ]; do
  case "$1" in -o) out="$2"; shift;; -ldflags) hash=$(echo "$2" | sed 's/.*sourceHash=\\([0-9a-f]*\\).*/\\1/'); shift;; esac
  shift
done
sleep 0.3
printf '#!/bin/sh\\necho {{\\"source\\": \\"%s\\"}}\\n' "$hash" > "$out"
chmod +x "$out"
"""


@pytest.fixture
def source(tmp_path):
    copy = tmp_path / "source"
    shutil.copytree(build.SOURCE, copy)
    return copy


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "meshops-aws-egress"


def fake_go(tmp_path, monkeypatch, version="go1.26.8"):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "go-calls"
    (bin_dir / "go").write_text(FAKE_GO.format(version=version, calls=calls))
    (bin_dir / "go").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return calls


def no_go(monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_the_hash_follows_the_go_source_and_nothing_else(source):
    before = build.source_hash(source)
    (source / "NOTES.txt").write_text("not source")
    assert build.source_hash(source) == before
    main = source / "main_test.go"
    main.write_text(main.read_text() + "\n// changed\n")
    assert build.source_hash(source) != before
    assert build.source_hash() == build.source_hash(build.SOURCE)


def test_the_pinned_istio_comes_from_the_harnesss_own_go_mod():
    assert build.istio_version().startswith("v0.0.0-2026")


def test_a_first_use_builds_once_into_the_cache_keyed_by_source_and_go(source, cache, tmp_path, monkeypatch):
    calls = fake_go(tmp_path, monkeypatch)
    said = []
    built = build.find_or_build(said.append, source)
    assert built == cache / f"xds-simulate-{build.source_hash(source)}-go1.26.8" / "xds-simulate"
    assert build.built_from(built) == build.source_hash(source)
    assert len(said) == 1 and "the first build takes minutes" in said[0]
    assert "-mod=readonly" in calls.read_text() and f"sourceHash={build.source_hash(source)}" in calls.read_text()
    # Reused: no second build, nothing said.
    assert build.find_or_build(said.append, source) == built
    assert len(calls.read_text().splitlines()) == 1 and len(said) == 1
    # Another Go is another key.
    fake_go(tmp_path, monkeypatch, version="go1.27.0")
    assert build.find_or_build(said.append, source).parent.name.endswith("-go1.27.0")


def test_runs_started_together_build_once_and_never_see_half_a_binary(source, cache, tmp_path, monkeypatch):
    calls = fake_go(tmp_path, monkeypatch)
    found = []
    threads = [
        threading.Thread(target=lambda: found.append(build.find_or_build(lambda message: None, source)))
        for run in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and len(found) == 4
    assert len(calls.read_text().splitlines()) == 1
    # Only the binary and the lock: no partial file left behind.
    assert sorted(p.name for p in found[0].parent.iterdir()) == [".lock", "xds-simulate"]


def test_without_go_one_line_names_the_requirement_and_xds_simulate(source, cache, tmp_path, monkeypatch):
    no_go(monkeypatch, tmp_path)
    with pytest.raises(build.BuildError) as err:
        build.find_or_build(print, source)
    message = str(err.value)
    assert len(message.splitlines()) == 1
    assert "there is no Go on PATH to build it: install Go 1.26 or newer" in message
    assert "XDS_SIMULATE=/path/to/xds-simulate" in message


def test_without_go_an_earlier_build_of_the_same_source_serves(source, cache, tmp_path, monkeypatch):
    fake_go(tmp_path, monkeypatch)
    built = build.find_or_build(print, source)
    no_go(monkeypatch, tmp_path)
    assert build.find_or_build(print, source) == built


def test_a_go_older_than_the_harness_needs_is_named(source, cache, tmp_path, monkeypatch):
    fake_go(tmp_path, monkeypatch, version="go1.25.3")
    with pytest.raises(
        build.BuildError, match=r"needs Go 1\.26 or newer to build, and `.*go env GOVERSION` says go1\.25\.3"
    ):
        build.find_or_build(print, source)


def test_a_binary_of_other_source_is_refused_naming_both_hashes(source, cache, tmp_path, monkeypatch):
    fake_go(tmp_path, monkeypatch)
    built = build.find_or_build(print, source)
    build.check(built, source)
    main = source / "main_test.go"
    main.write_text(main.read_text() + "\n// another release\n")
    with pytest.raises(build.BuildError) as err:
        build.check(built, source)
    assert str(err.value) == (
        f"xds-simulate at {built} was built from harness source {build.built_from(built)}, and this collection's is "
        f"{build.source_hash(source)}: use one built from this collection (unset XDS_SIMULATE to have it built on first use, "
        f"or {build.PREBUILT})"
    )


def test_a_binary_that_cannot_say_its_source_is_refused(tmp_path):
    old = tmp_path / "xds-simulate"
    old.write_text("#!/bin/sh\necho 'flag provided but not defined: -version' >&2\nexit 2\n")
    old.chmod(0o755)
    with pytest.raises(build.BuildError, match="does not say which harness source it was built from"):
        build.check(old)


def test_the_runner_refuses_a_missing_or_foreign_binary_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XDS_SIMULATE", str(tmp_path / "nowhere"))
    with pytest.raises(harness.HarnessError) as err:
        harness.binary_for()
    assert str(err.value).startswith(
        f"xds-simulate not found at {tmp_path / 'nowhere'} (XDS_SIMULATE or the harness option)"
    )
    foreign = tmp_path / "foreign"
    foreign.write_text('#!/bin/sh\necho \'{"source": "0123456789ab"}\'\n')
    foreign.chmod(0o755)
    with pytest.raises(harness.HarnessError, match="was built from harness source 0123456789ab"):
        harness.binary_for(Path(foreign))
