"""Who is asking, and what that role may do.

| capability        | operator_admin | operator_staff | merchant_owner     | merchant_staff |
| ----------------- | -------------- | -------------- | ------------------ | -------------- |
| read own tenancy  | operator-wide  | operator-wide  | own merchant       | own merchant   |
| merchants: write  | yes            | yes            | -                  | -              |
| merchants: delete | yes            | -              | -                  | -              |
| stores: write     | yes            | yes            | own merchant       | -              |
| terminals: write  | yes            | yes            | -                  | -              |
| accounts: write   | any role       | -              | merchant_staff of own merchant | -  |
| audit log: read   | operator-wide  | operator-wide  | own merchant's rows | -             |
| books: close day  | yes            | yes            | own merchant       | -              |
| catalog: write    | yes            | yes            | own merchant       | -              |
| stock: receive, count | yes        | yes            | own merchant       | own merchant   |
| stock: adjust     | yes            | yes            | own merchant       | -              |

Objects outside a principal's scope answer 404, as if they did not exist.
"""
from cloud.accounts.models import (MERCHANT_ROLES, MERCHANT_STAFF, OPERATOR_ADMIN, OPERATOR_ROLES,
                                   OPERATOR_STAFF, MERCHANT_OWNER)

CAPABILITIES = {
    OPERATOR_ADMIN: {"merchant:write", "merchant:delete", "store:write", "store:delete", "terminal:write",
                     "terminal:delete", "account:write", "audit:read", "books:close", "catalog:write",
                     "stock:write", "stock:adjust", "members:programme", "giftcards:issue"},
    OPERATOR_STAFF: {"merchant:write", "store:write", "terminal:write", "audit:read", "books:close", "catalog:write",
                     "stock:write", "stock:adjust", "members:programme", "giftcards:issue"},
    MERCHANT_OWNER: {"store:write", "account:write", "audit:read", "books:close", "catalog:write", "stock:write",
                     "stock:adjust", "members:programme", "giftcards:issue"},
    MERCHANT_STAFF: {"stock:write"},
}


class Principal:
    def __init__(self, account, token_row=None):
        self.account = account
        self.token_row = token_row
        self.role = account.role
        self.operator_id = account.operator_id
        self.merchant_id = account.merchant_id

    @property
    def label(self):
        return "account:%d %s" % (self.account.id, self.account.username)

    @property
    def is_operator(self):
        return self.role in OPERATOR_ROLES

    def can(self, capability):
        return capability in CAPABILITIES.get(self.role, ())

    def sees_merchant(self, merchant):
        if merchant is None or merchant.operator_id != self.operator_id:
            return False
        return self.is_operator or merchant.id == self.merchant_id

    def sees_store(self, store):
        return store is not None and self.sees_merchant(store.merchant)

    def sees_terminal(self, terminal):
        if terminal is None or terminal.operator_id != self.operator_id:
            return False
        if self.is_operator:
            return True
        return terminal.store is not None and terminal.store.merchant_id == self.merchant_id

    def sees_account(self, account):
        if account is None or account.operator_id != self.operator_id:
            return False
        return self.is_operator or account.merchant_id == self.merchant_id

    def may_grant(self, role, merchant_id):
        """May this principal create or change an account to `role` at `merchant_id`?"""
        if self.role == OPERATOR_ADMIN:
            return True
        if self.role == MERCHANT_OWNER:
            return role == MERCHANT_STAFF and merchant_id == self.merchant_id
        return False


def role_needs_merchant(role):
    return role in MERCHANT_ROLES
