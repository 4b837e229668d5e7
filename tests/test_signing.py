"""Signed results: `kpirules keygen`, `eval --sign KEYFILE`, `verify --public-key KEYFILE` (signing.py)."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from kpirules import signing
from kpirules.cli import main

pytest.importorskip("cryptography", reason="signing needs the `cryptography` package (the `sign` extra)")

ROOT = Path(__file__).resolve().parents[1]
U8 = "policies/u8_presales.rules"
QUARTERLY = "examples/u8_quarterly.json"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keys(tmp_path, capsys):
    def make(name="signer"):
        prefix = tmp_path / name
        code, out, err = run(capsys, "keygen", "--out", str(prefix))
        assert code == 0, err
        return Path(f"{prefix}.key"), Path(f"{prefix}.pub"), out.splitlines()[-1].split()[-1]
    return make


def signed_result(capsys, tmp_path, key, explain=False, name="r.json"):
    code, out, err = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json",
                         "--sign", str(key), *(["--explain"] if explain else []))
    assert code == 0, err
    path = tmp_path / name
    path.write_text(out, encoding="utf-8")
    return path, json.loads(out)


def verify(capsys, result, public=None):
    return run(capsys, "verify", str(result), QUARTERLY, U8, *(["--public-key", str(public)] if public else []))


def test_keygen_writes_a_private_key_only_its_owner_reads_and_a_public_key(keys):
    private, public, key_id = keys()
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----\n")
    assert key_id == signing.key_id(signing.load_public_key(str(public)))
    assert len(key_id) == 64


def test_keygen_never_overwrites_a_key(capsys, keys, tmp_path):
    private, _, _ = keys()
    before = private.read_bytes()
    code, _, err = run(capsys, "keygen", "--out", str(tmp_path / "signer"))
    assert code == 2 and "already exists; kpirules keygen never overwrites a key" in err
    assert private.read_bytes() == before


@pytest.mark.parametrize("explain", [False, True])
def test_a_signed_result_verifies_with_its_public_key(capsys, tmp_path, keys, explain):
    private, public, key_id = keys()
    path, data = signed_result(capsys, tmp_path, private, explain=explain)
    sig = data["stamp"]["signature"]
    assert sig["algorithm"] == "ed25519" and sig["key_id"] == key_id
    assert list(data["stamp"])[-1] == "signature"
    code, out, _ = verify(capsys, path, public)
    assert code == 0, out
    assert out.splitlines()[-1].startswith("verified: 16 values match")
    assert out.splitlines()[-1].endswith(f"; signed by key {key_id}")


def test_the_signature_survives_re_serialisation(capsys, tmp_path, keys):
    """What is signed is the stamp's canonical form: indentation, key order and escaping may change."""
    private, public, _ = keys()
    path, data = signed_result(capsys, tmp_path, private)
    relaid = {k: data[k] for k in reversed(list(data))}
    relaid["stamp"] = {k: data["stamp"][k] for k in reversed(list(data["stamp"]))}
    path.write_text(json.dumps(relaid, ensure_ascii=True, separators=(",", ":")), encoding="utf-8")
    code, out, _ = verify(capsys, path, public)
    assert code == 0, out


def test_signing_is_deterministic(capsys, tmp_path, keys):
    private, _, _ = keys()
    _, a = signed_result(capsys, tmp_path, private, name="a.json")
    _, b = signed_result(capsys, tmp_path, private, name="b.json")
    assert a["stamp"]["signature"] == b["stamp"]["signature"]  # Ed25519 signatures are deterministic


@pytest.mark.parametrize("field, value", [
    ("facts_sha256", "0" * 64),
    ("engine", "9.9.9"),
    ("explained", True),
])
def test_a_tampered_stamp_fails_the_signature(capsys, tmp_path, keys, field, value):
    private, public, _ = keys()
    path, data = signed_result(capsys, tmp_path, private)
    data["stamp"][field] = value
    if field == "explained":
        data["trace"] = {}  # keep the result well-formed: only the signature can tell
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, _ = verify(capsys, path, public)
    assert code == 1
    lines = [line for line in out.splitlines() if not line.startswith("note: ")]
    assert lines[0] == ("signature: the signature does not match the stamp: the stamp was changed "
                        "after it was signed, or the signature was")
    assert lines[-1].startswith("not verified: the signature does not hold")


def test_a_tampered_signature_fails(capsys, tmp_path, keys):
    private, public, _ = keys()
    path, data = signed_result(capsys, tmp_path, private)
    value = data["stamp"]["signature"]["value"]
    data["stamp"]["signature"]["value"] = ("B" if value[0] != "B" else "C") + value[1:]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, _ = verify(capsys, path, public)
    assert code == 1 and out.splitlines()[0].startswith("signature: the signature does not match the stamp")
    assert out.splitlines()[-1] == "not verified: the signature does not hold"


def test_another_key_fails(capsys, tmp_path, keys):
    private, _, key_id = keys("cfo")
    _, other_public, other_id = keys("intruder")
    path, _ = signed_result(capsys, tmp_path, private)
    code, out, _ = verify(capsys, path, other_public)
    assert code == 1
    assert out.splitlines()[0] == f"signature: the result was signed by key {key_id}, not by the key given ({other_id})"


def test_a_result_re_signed_by_another_key_fails(capsys, tmp_path, keys):
    """Someone who changes a result and signs it again with their own key is not the expected signer."""
    _, public, _ = keys("cfo")
    intruder, _, intruder_id = keys("intruder")
    path, data = signed_result(capsys, tmp_path, intruder)
    code, out, _ = verify(capsys, path, public)
    assert code == 1 and f"signed by key {intruder_id}, not by the key given" in out


def test_a_missing_signature_fails_when_a_key_is_given(capsys, tmp_path, keys):
    private, public, _ = keys()
    path, data = signed_result(capsys, tmp_path, private)
    del data["stamp"]["signature"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, _ = verify(capsys, path, public)
    assert code == 1
    assert out.splitlines()[0].startswith("signature: the result is not signed, and --public-key asks who made it")
    code, out, _ = verify(capsys, path)  # without a key, an unsigned result verifies as before
    assert code == 0


def test_a_signed_result_verifies_without_a_key_with_a_note(capsys, tmp_path, keys):
    private, _, key_id = keys()
    path, _ = signed_result(capsys, tmp_path, private)
    code, out, _ = verify(capsys, path)
    assert code == 0
    assert out.splitlines()[0] == (f"note: the result is signed by key {key_id}; the signature is not checked "
                                   "(give the signer's public key with --public-key KEYFILE)")


def test_a_changed_value_still_fails_in_a_signed_result(capsys, tmp_path, keys):
    """The signature covers the stamp; the values are checked by re-evaluating from what it names."""
    private, public, _ = keys()
    path, data = signed_result(capsys, tmp_path, private)
    data["values"]["quarterly_bonus"] = "99999.00"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, _ = verify(capsys, path, public)
    assert code == 1
    assert out.splitlines() == ["quarterly_bonus: result says 99999.00, re-evaluation gives 7488.00",
                                "not verified: 1 difference"]


def test_an_extra_signature_field_is_refused(capsys, tmp_path, keys):
    private, public, _ = keys()
    path, data = signed_result(capsys, tmp_path, private)
    data["stamp"]["signature"]["signer"] = "CFO"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, _, err = verify(capsys, path, public)
    assert code == 2 and "error[V102]: `stamp.signature.signer`" in err


def test_batch_results_are_signed(capsys, tmp_path, keys):
    private, public, key_id = keys()
    facts = json.loads((ROOT / QUARTERLY).read_text(encoding="utf-8"))
    lines = tmp_path / "facts.jsonl"
    lines.write_text(json.dumps({**facts, "id": "E1"}, ensure_ascii=False) + "\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "eval", U8, str(lines), "--evaluation", "quarterly", "--out", str(out_dir),
                       "--sign", str(private))
    assert code == 0, err
    line = tmp_path / "E1.json"
    line.write_text(json.dumps({**facts, "id": "E1"}, ensure_ascii=False), encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(out_dir / "E1.json"), str(line), U8, "--public-key", str(public))
    assert code == 0, out
    assert out.endswith(f"signed by key {key_id}\n")


@pytest.mark.parametrize("which", ["private", "public"])
def test_bad_key_files_are_clear_errors(capsys, tmp_path, keys, which):
    private, public, _ = keys()
    path, _ = signed_result(capsys, tmp_path, private)
    wrong = tmp_path / "wrong.pem"
    wrong.write_text("not a key\n", encoding="utf-8")
    for given, message in ((tmp_path / "absent.pem", "does not exist"), (wrong, f"is not a PEM {which} key"),
                           (public if which == "private" else private, f"is not a PEM {which} key (it is a ")):
        if which == "private":
            code, out, err = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json",
                                 "--sign", str(given))
        else:
            code, out, err = verify(capsys, path, given)
        assert code == 2 and out == ""
        assert err.startswith(f"kpirules: error: {which} key file `{given}` {message}")
        assert "Traceback" not in err


def test_sign_needs_a_json_result(capsys, keys):
    private, _, _ = keys()
    code, _, err = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--sign", str(private))
    assert code == 2 and "--sign signs the stamp of a JSON result: add --format json" in err


def test_without_cryptography_the_error_says_what_to_install(capsys, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import cryptography now raises ImportError
    expected = ("kpirules: error: signing and checking signatures need the `cryptography` package, which is not "
                "installed; install it with `pip install 'kpirules[sign]'`\n")
    code, _, err = run(capsys, "keygen", "--out", str(tmp_path / "k"))
    assert (code, err) == (2, expected)
    code, _, err = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json",
                       "--sign", "k.key")
    assert (code, err) == (2, expected)
    code, out, _ = run(capsys, "eval", U8, QUARTERLY, "--evaluation", "quarterly", "--format", "json")
    result = tmp_path / "r.json"
    result.write_text(out, encoding="utf-8")
    code, _, err = verify(capsys, result, "k.pub")
    assert (code, err) == (2, expected)
    code, out, _ = verify(capsys, result)  # verifying without a key needs no cryptography
    assert code == 0, out


def test_what_is_signed_is_the_canonical_stamp():
    stamp = {"schema": "kpirules.result/1", "engine": "0.1.0", "explained": False, "as_of": "2026-06-30",
             "signature": {"value": "x"}}
    assert signing.signed_bytes(stamp) == (b"kpirules.stamp-signature/1\n" + json.dumps(
        {"as_of": "2026-06-30", "engine": "0.1.0", "explained": False, "schema": "kpirules.result/1"},
        separators=(",", ":")).encode())
