"""A campaign of idle-screen content: up to three text lines and one picture already converted for
the terminal's display, shown between two moments and within hours of the day, in some stores of
the merchant or in all of them."""
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, utcnow


class Campaign(Base):
    __tablename__ = "marketing_campaigns"
    __audited__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    lines: Mapped[str] = mapped_column(Text, default="[]")          # JSON list of up to 3 strings
    starts_at: Mapped[object] = mapped_column(DateTime)              # store-local wall time
    ends_at: Mapped[object] = mapped_column(DateTime)
    hour_from: Mapped[int] = mapped_column(SmallInteger, default=0)  # shown when hour_from <= hour < hour_to
    hour_to: Mapped[int] = mapped_column(SmallInteger, default=24)
    store_ids: Mapped[str] = mapped_column(Text, default="null")     # JSON list of store ids, null: every store
    image: Mapped[object] = mapped_column(LargeBinary, nullable=True)  # the display's 1-bit rows (image.py)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
