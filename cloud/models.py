"""Every model of the service, imported in one place (Alembic and the app need them all)."""
from cloud.tenants.models import Operator, Merchant, Store, Terminal  # noqa: F401
from cloud.accounts.models import Account, ApiToken  # noqa: F401
from cloud.audit.models import AuditEntry  # noqa: F401
from cloud.tms.models import SoftwareModule, Artifact, Action, ActionStatus  # noqa: F401
from cloud.tms.parameters import ParameterSet  # noqa: F401
from cloud.tms.keyvault import TerminalKek  # noqa: F401
from cloud.tms.rollouts import TerminalGroup, GroupMember, Rollout, RolloutTarget  # noqa: F401
from cloud.tms.diagnostics import DiagnosticRequest  # noqa: F401
from cloud.sales.models import Sale, SaleConflict, JournalEntry, Posting, DayClose, Reconciliation  # noqa: F401
from cloud.insights.models import (InsightBasket, InsightItem, InsightMember, InsightModel, Lender,  # noqa: F401
                                   CreditConsent)
from cloud.backoffice.models import SaleFact, TenderFact, LineFact, StoreDay  # noqa: F401
from cloud.promotions.models import CouponRedemption, CouponDoubleRedemption  # noqa: F401
from cloud.catalog.models import (CatalogHead, Category, Item, CatalogTombstone, StockLevel,  # noqa: F401
                                  StockMovement, StockAlert, PurchaseOrder, PurchaseOrderLine, GoodsReceipt,
                                  StockTake, StockTakeLine, StockCountBatch)
from cloud.appstore.models import Developer, AppPackage, AppCrash  # noqa: F401
from cloud.members.models import MemberProgramme, Member, MemberCard, PointsEntry  # noqa: F401
from cloud.marketing.models import Campaign  # noqa: F401
from cloud.giftcards.models import GiftCard, GiftCardEntry  # noqa: F401
from cloud.members.wallet import StoredValueEntry  # noqa: F401
