"""A household's password hash, its saved draft, and supervisors' password resets."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.store.client import transaction_connection
from shared.store.faults import ConditionFailed, cancelled_by_condition, conditional, mapped_faults
from shared.store.schema import (
    CREDENTIAL_SK,
    DRAFT_SK,
    RESET_PREFIX,
    CensusItem,
    Credential,
    Draft,
    PasswordReset,
    household_pk,
    reset_sk,
)


class AlreadyExists(Exception):
    """A conditional create found the item there (a password set by someone else first)."""


class DraftConflict(Exception):
    """The draft's ETag is not the one the writer read."""


@mapped_faults
def set_password(kk: str, password_hash: str, set_at: str) -> None:
    """Claim the household: only the first password set wins (a concurrent second gets
    `AlreadyExists` and must sign in with the first one)."""
    credential = Credential(household_pk(kk), CREDENTIAL_SK, password_hash=password_hash, set_at=set_at)
    try:
        conditional(lambda: credential.save(condition=Credential.pk.does_not_exist()))
    except ConditionFailed:
        raise AlreadyExists() from None


@mapped_faults
def save_draft(kk: str, body: str, *, expected_etag: str | None, new_etag: str, saved_at: str, expires_at: int) -> None:
    """Store the draft as `new_etag`, only if the stored one is still `expected_etag`
    (None: only if there is none)."""
    draft = Draft(household_pk(kk), DRAFT_SK, body=body, etag=new_etag, saved_at=saved_at, expires_at=expires_at)
    condition = Draft.pk.does_not_exist() if expected_etag is None else (Draft.etag == expected_etag)
    try:
        conditional(lambda: draft.save(condition=condition))
    except ConditionFailed:
        raise DraftConflict() from None


@mapped_faults
def reset_password(kk: str, *, reset_by: str, reset_at: str) -> None:
    """Remove the password (the household is unclaimed again) and record who did it, at once;
    `ConditionFailed` if it had none."""
    pk = household_pk(kk)
    record = PasswordReset(pk, reset_sk(reset_at), reset_by=reset_by, reset_at=reset_at)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(Credential(pk, CREDENTIAL_SK), condition=Credential.pk.exists())
            tx.save(record, condition=PasswordReset.pk.does_not_exist())
    except TransactWriteError as exc:
        if cancelled_by_condition(exc):
            raise ConditionFailed() from None
        raise


@mapped_faults
def list_password_resets(kk: str) -> list[PasswordReset]:
    return [
        i
        for i in CensusItem.query(household_pk(kk), CensusItem.sk.startswith(RESET_PREFIX), consistent_read=True)
        if isinstance(i, PasswordReset)
    ]
