"""C2PA Content Credentials of an image, read in memory with c2pa-python and validated, at a bounded cost: stores
that declare more than MAX_STORE_BYTES, are truncated, or take longer than the time budget are not validated.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .metadata import MetadataBlocks

logger = logging.getLogger(__name__)

MAX_STORE_BYTES = 4 * 1024 * 1024  # real stores, thumbnails included, are tens to hundreds of kB
DEFAULT_TIMEOUT_S = 1.0
MAX_READERS = 4  # validations in flight per process; a late one waits for a slot within its time budget
# No network while serving: no remote manifests, no OCSP. Trust comes only from the configured anchors.
READER_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True}}
MAX_FAILURES = 10
MAX_REASON_CHARS = 160

READER_SLOTS = threading.BoundedSemaphore(MAX_READERS)


@dataclass
class Credentials:
    """What the C2PA manifest store says and whether its signature holds.

    state: "valid" (signature holds, signer trusted), "untrusted" (signature holds, signer not on the trust list),
    "tampered" (the asset or the manifest changed after signing), "invalid" (unreadable or otherwise failing
    validation), "skipped" (too large, truncated or too slow to validate) or "none" (no manifest store).
    """

    state: str = "none"
    reason: str | None = None
    signer: str | None = None
    issuer: str | None = None
    signed_at: str | None = None
    claim_generator: str | None = None
    failures: list[str] = field(default_factory=list)
    actions: list[dict[str, str | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The `c2pa` member of the provenance answer (actions are reported as evidence instead)."""
        return {"state": self.state, "reason": self.reason, "signer": self.signer, "issuer": self.issuer,
                "signed_at": self.signed_at, "claim_generator": self.claim_generator, "failures": self.failures}


def read_credentials(data: bytes, blocks: MetadataBlocks, trust_anchors: str | None = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S) -> Credentials:
    """Validate the manifest store the container walk found, if its size is sane; never raises."""
    if not blocks.c2pa_declared and not blocks.c2pa_present:
        return Credentials()
    if blocks.c2pa_declared > MAX_STORE_BYTES:
        return Credentials("skipped", f"the manifest store declares {blocks.c2pa_declared} bytes; stores over "
                                      f"{MAX_STORE_BYTES} bytes are not validated")
    if blocks.c2pa_present < blocks.c2pa_declared:
        return Credentials("invalid", f"the manifest store is truncated ({blocks.c2pa_present} of "
                                      f"{blocks.c2pa_declared} bytes)")
    try:
        store = call_with_timeout(lambda: manifest_store(data, blocks.mime, trust_anchors), timeout_s)
    except TimeoutError:
        logger.warning("C2PA validation took longer than %.2f s; reported as skipped", timeout_s)
        return Credentials("skipped", f"validation took longer than {timeout_s:g} s")
    except Exception as error:  # c2pa raises C2paError subclasses, and ctypes may raise others, for broken stores
        return Credentials("invalid", f"the manifest store cannot be read: {str(error)[:MAX_REASON_CHARS]}")
    return describe_store(store) if store else Credentials()


def manifest_store(data: bytes, mime: str | None, trust_anchors: str | None) -> dict[str, Any] | None:
    """The validated manifest store as c2pa-python's JSON report; None if there is none."""
    import c2pa

    try:
        with c2pa.Reader(mime, io.BytesIO(data), context=reader_context(trust_anchors, os.getpid())) as reader:
            return json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return None


@functools.lru_cache(maxsize=8)
def reader_context(trust_anchors: str | None, pid: int) -> Any:
    """One c2pa Context per process (contexts do not survive a fork) and trust-anchor bundle."""
    import c2pa

    settings = dict(READER_SETTINGS)
    if trust_anchors:
        settings["trust"] = {"user_anchors": trust_anchors}
    return c2pa.Context.from_dict(settings)


def call_with_timeout(function: Callable[[], Any], timeout_s: float) -> Any:
    """function() on a helper thread, given up after timeout_s (a native call cannot be interrupted: it finishes
    in the background holding one of MAX_READERS slots). Raises TimeoutError, or what function raised."""
    deadline = time.monotonic() + timeout_s
    if not READER_SLOTS.acquire(timeout=timeout_s):
        raise TimeoutError("no free reader slot")
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except Exception as error:  # handed to the caller below
            outcome["error"] = error
        finally:
            READER_SLOTS.release()

    worker = threading.Thread(target=run, name="c2pa-reader", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        raise TimeoutError("validation still running")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def describe_store(store: dict[str, Any]) -> Credentials:
    """Credentials from c2pa-python's report: validation state, signer and the active manifest's actions."""
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures = [item.get("code", "") for item in results.get("failure", [])] or \
               [item.get("code", "") for item in store.get("validation_status", [])]
    signature = manifest.get("signature_info") or {}
    generator = (manifest.get("claim_generator_info") or [{}])[0]
    return Credentials(
        state=validation_state(store.get("validation_state"), failures),
        signer=signature.get("common_name"), issuer=signature.get("issuer"), signed_at=signature.get("time"),
        claim_generator=" ".join(str(generator.get(key, "")) for key in ("name", "version")).strip()
        or manifest.get("claim_generator"),
        failures=failures[:MAX_FAILURES], actions=manifest_actions(manifest))


def validation_state(state: str | None, failures: list[str]) -> str:
    """Our state word for c2pa's validation_state (Trusted, Valid, Invalid) and its failure codes."""
    if state == "Trusted":
        return "valid"
    if state == "Valid":
        return "untrusted"
    if any(code.endswith(".mismatch") for code in failures):
        return "tampered"
    return "invalid"


def manifest_actions(manifest: dict[str, Any]) -> list[dict[str, str | None]]:
    """Every action of the manifest's c2pa.actions assertions: action, digital source type, software agent."""
    found = []
    for assertion in manifest.get("assertions", []):
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions", []):
            agent = action.get("softwareAgent")
            found.append({"action": str(action.get("action", "")),
                          "digital_source_type": action.get("digitalSourceType"),
                          "software_agent": agent.get("name") if isinstance(agent, dict) else agent})
    return found
