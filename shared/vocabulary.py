"""The census form's enumerations: one definition used by validation, the register
import, the OpenAPI document and the web page."""

from __future__ import annotations

from enum import StrEnum


class Relationship(StrEnum):
    """Relationship to the head of the household."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    CHILD_IN_LAW = "child_in_law"
    GRANDCHILD = "grandchild"
    PARENT = "parent"
    PARENT_IN_LAW = "parent_in_law"
    OTHER_RELATIVE = "other_relative"
    HOUSEHOLD_HELP = "household_help"
    OTHER = "other"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class MaritalStatus(StrEnum):
    NEVER_MARRIED = "never_married"
    MARRIED = "married"
    DIVORCED = "divorced"
    WIDOWED = "widowed"


class Religion(StrEnum):
    ISLAM = "islam"
    PROTESTANT = "protestant"
    CATHOLIC = "catholic"
    HINDU = "hindu"
    BUDDHIST = "buddhist"
    CONFUCIAN = "confucian"
    OTHER = "other"


class Education(StrEnum):
    NONE = "none"
    PRIMARY = "primary"
    JUNIOR_SECONDARY = "junior_secondary"
    SENIOR_SECONDARY = "senior_secondary"
    DIPLOMA = "diploma"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"


class Citizenship(StrEnum):
    WNI = "WNI"  # Indonesian citizen
    WNA = "WNA"  # foreign citizen


class Channel(StrEnum):
    ONLINE = "online"
    INTERVIEW = "interview"


class DepartureReason(StrEnum):
    """Why a register member is not in the response."""

    DIED = "died"
    MOVED_OUT = "moved_out"
    NOT_A_MEMBER = "not_a_member"


class AddedBecause(StrEnum):
    """Why a member who is not on the register is in the response."""

    BORN = "born"
    MOVED_IN = "moved_in"
    OTHER = "other"
