"""Reading households: the one Query that proves a household, receipts, response versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.store.faults import mapped_faults
from shared.store.records import (
    CredentialRecord,
    DraftRecord,
    HouseholdRecord,
    ReceiptRecord,
    RegisterRecord,
    VersionRecord,
)
from shared.store.schema import (
    META_SK,
    RECEIPT_SK,
    REGISTER_SK,
    VERSION_PREFIX,
    CensusItem,
    Credential,
    Draft,
    HouseholdRegister,
    HouseholdState,
    Receipt,
    ResponseVersion,
    household_pk,
    kk_of,
    receipt_pk,
)


@dataclass(frozen=True)
class HouseholdSnapshot:
    state: HouseholdRecord
    register: RegisterRecord
    credential: CredentialRecord | None = None
    draft: DraftRecord | None = None


@mapped_faults
def load_household(kk: str) -> HouseholdSnapshot | None:
    """META, REGISTER and (when present) the password hash and draft in one strongly
    consistent Query (one request, one read unit for a household of typical size)."""
    items = list(
        CensusItem.query(
            household_pk(kk),
            CensusItem.sk.between(META_SK, REGISTER_SK),
            consistent_read=True,
        )
    )
    state = next((i for i in items if isinstance(i, HouseholdState)), None)
    register = next((i for i in items if isinstance(i, HouseholdRegister)), None)
    if state is None or register is None:
        return None
    credential = next((i for i in items if isinstance(i, Credential)), None)
    draft = next((i for i in items if isinstance(i, Draft)), None)
    return HouseholdSnapshot(
        HouseholdRecord.of(state),
        RegisterRecord.of(register),
        None if credential is None else CredentialRecord(credential.password_hash, credential.set_at),
        None if draft is None else DraftRecord(draft.body, draft.etag, draft.saved_at, int(draft.expires_at)),
    )


@mapped_faults
def get_receipt(code: str) -> ReceiptRecord | None:
    """The status-lookup item: one strongly consistent GetItem (1 read unit: it is < 4 KB),
    so a resident checking right after submitting never sees a stale answer."""
    try:
        return ReceiptRecord.of(Receipt.get(receipt_pk(code), RECEIPT_SK, consistent_read=True))
    except Receipt.DoesNotExist:
        return None


@mapped_faults
def household_states(kks: Sequence[str]) -> dict[str, HouseholdRecord]:
    """Current META of many households (BatchGetItem): a worklist shows live status."""
    found = HouseholdState.batch_get([(household_pk(kk), META_SK) for kk in kks])
    return {kk_of(item.pk): HouseholdRecord.of(item) for item in found if isinstance(item, HouseholdState)}


@mapped_faults
def latest_version(kk: str) -> VersionRecord | None:
    items = CensusItem.query(
        household_pk(kk),
        CensusItem.sk.startswith(VERSION_PREFIX),
        scan_index_forward=False,
        limit=1,
        consistent_read=True,
    )
    return next((VersionRecord.of(i) for i in items if isinstance(i, ResponseVersion)), None)


@mapped_faults
def list_versions(kk: str) -> list[ResponseVersion]:
    """Every stored version, as stored (for tests and exports)."""
    return [
        i
        for i in CensusItem.query(household_pk(kk), CensusItem.sk.startswith(VERSION_PREFIX), consistent_read=True)
        if isinstance(i, ResponseVersion)
    ]
