"""Who writes: a key, its owner, whether it is an admin key; the command line's principal.
Its own module, below the journal and the writer that record it and the owners' rules that
judge it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from api.store.models import DEFAULT_OWNER


@dataclass(frozen=True)
class Principal:
    """Who writes: the key's name (what the journal records), its owner, and whether it is an
    admin key. The command line is an admin of the default owner."""

    key: str
    owner: str
    admin: bool = False

    def may_act_for(self, owners: Iterable[str]) -> bool:
        """True when this key may change what these owners own (any one of them)."""
        return self.admin or self.owner in set(owners)


CLI = Principal("cli", DEFAULT_OWNER, admin=True)
