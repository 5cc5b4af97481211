# Application selection, EMV 4.4 Book 1 section 12: the candidate list is built
# from the Payment System Environment directory (12.3.2) or, when that is not
# available, from the terminal's list of AIDs (12.3.3); final selection
# (12.4) orders by Application Priority Indicator and asks the cardholder
# where required.
from micropython import const

from pos.emv import tlv
from pos.emv.errors import CardError

PSE = b"1PAY.SYS.DDF01"
_SW_OK = const(0x9000)
_SW_BLOCKED_APP = const(0x6283)
_SW_CARD_BLOCKED = const(0x6A81)    # SELECT not supported / card blocked (Book 1 12.3.2 step 1)
_SW_NOT_FOUND = const(0x6A82)
_SW_NO_RECORD = const(0x6A83)


class Candidate:
    def __init__(self, aid, label, priority, term_aid):
        self.aid = aid              # ADF name as the card gives it
        self.label = label          # Application Label (50), text
        self.priority = priority    # Application Priority Indicator (87) or 0
        self.term_aid = term_aid    # the configured AID it matched
        self.fci = None             # FCI template after final SELECT

    def needs_confirmation(self):
        return bool(self.priority & 0x80)   # Book 1 Table 48: b8 = cardholder confirmation required

    def rank(self):
        p = self.priority & 0x0F
        return p if p else 16       # 0 = no priority: after every prioritised one


class NoApplication(Exception):
    """No mutually supported application (terminate, Book 1 12.4)."""


def _text(b):
    try:
        return bytes(b).decode()
    except Exception:
        return ""


def _match(cfg, adf):
    """The configured AID matching card ADF name `adf` (exact, or partial where allowed)."""
    for s in cfg.schemes:
        for a in s.aids:
            n = len(a.aid)
            if adf == a.aid or (a.partial and len(adf) > n and adf[:n] == a.aid):
                return a
    return None


def _add(cands, cand):
    for c in cands:
        if c.aid == cand.aid:
            return
    cands.append(cand)


def _directory_sfi(data):
    try:
        sfi = tlv.tlv_find(data, 0x88)     # 6F / A5 / 88 SFI of the directory elementary file
    except ValueError:
        return None
    if not sfi or len(sfi) != 1 or not 1 <= sfi[0] <= 10:
        return None
    return sfi[0]


def from_pse(card, cfg, trace):
    """Candidates from the PSE directory and the DDFs it names (Book 1 12.3.2);
    None when the terminal must use the list of AIDs."""
    data, sw = card.select(PSE)
    if sw == _SW_CARD_BLOCKED:
        raise CardError("blocked", "card blocked or SELECT not supported (6A81)")
    if sw != _SW_OK:
        trace.append("PSE not available (SW %04X): list of AIDs" % sw)
        return None
    sfi = _directory_sfi(data)
    if sfi is None:
        trace.append("PSE FCI without a usable directory SFI: list of AIDs")
        return None
    cands = []
    ddfs = []                   # DDF names found in directories, followed afterwards
    while True:
        if not _read_directory(card, cfg, sfi, cands, ddfs, trace):
            return None
        if not ddfs or len(ddfs) > 8:
            break
        data, sw = card.select(ddfs.pop(0))
        sfi = _directory_sfi(data) if sw == _SW_OK else None
        if sfi is None:
            trace.append("DDF not selectable (SW %04X): skipped" % sw)
            if not ddfs:
                break
    return cands


def _read_directory(card, cfg, sfi, cands, ddfs, trace):
    rec = 1
    while rec < 32:
        data, sw = card.read_record(sfi, rec)
        if sw == _SW_NO_RECORD:
            return True
        if sw != _SW_OK:
            trace.append("directory record %d: SW %04X: list of AIDs" % (rec, sw))
            return False
        try:
            for tag, s, e, cons in tlv.tlv_iter(data):
                if tag != 0x70:
                    raise ValueError("directory record is not a 70 template")
                body = data[s:e]
                for t2, s2, e2, _c in tlv.tlv_iter(body):
                    if t2 != 0x61:
                        continue
                    entry = body[s2:e2]
                    ddf = tlv.tlv_find(entry, 0x9D)
                    if ddf:
                        ddfs.append(ddf)
                        continue
                    adf = tlv.tlv_find(entry, 0x4F)
                    if not adf or not 5 <= len(adf) <= 16:
                        continue
                    a = _match(cfg, adf)
                    if a is None:
                        continue
                    label = tlv.tlv_find(entry, 0x50)
                    api = tlv.tlv_find(entry, 0x87)
                    _add(cands, Candidate(adf, _text(label) if label else a.label,
                                          api[0] if api else 0, a.aid))
        except ValueError as exc:
            trace.append("directory record %d malformed (%s): list of AIDs" % (rec, exc))
            return False
        rec += 1
    return True


def from_aid_list(card, cfg, trace):
    """Candidates by selecting each configured AID (Book 1 12.3.3)."""
    cands = []
    for s in cfg.schemes:
        for a in s.aids:
            data, sw = card.select(a.aid)
            nxt = 0
            while nxt < 16:
                if sw == _SW_CARD_BLOCKED:
                    raise CardError("blocked", "card blocked or SELECT not supported (6A81)")
                if sw not in (_SW_OK, _SW_BLOCKED_APP):
                    break
                try:
                    df = tlv.tlv_find(data, 0x84)
                except ValueError:
                    df = None
                if not df:
                    break
                if sw == _SW_BLOCKED_APP:
                    trace.append("application %s blocked (6283)" % bytes(df).hex().upper())
                # Book 1 12.3.3 steps 4-6: exact match -> add; longer DF name -> add when
                # partial selection is allowed; then SELECT next occurrence if allowed
                if df != a.aid and not (a.partial and df[:len(a.aid)] == a.aid):
                    break
                if sw == _SW_OK:
                    _add(cands, _from_fci(df, data, a))
                if not a.partial:
                    break
                data, sw = card.select(a.aid, next_occurrence=True)
                nxt += 1
    return cands


def _from_fci(df, fci, a):
    try:
        label = tlv.tlv_find(fci, 0x50)
        api = tlv.tlv_find(fci, 0x87)
    except ValueError:
        label = api = None
    return Candidate(df, _text(label) if label else a.label, api[0] if api else 0, a.aid)


def candidate_list(card, cfg, trace):
    cands = from_pse(card, cfg, trace)
    if not cands:
        cands = from_aid_list(card, cfg, trace)
    return cands


def choose(cands, cfg, ui, trace):
    """Pick the next application to try from `cands` (Book 1 12.4); None = no more."""
    allow_confirm = cfg.terminal.cardholder_confirmation
    usable = [c for c in cands if allow_confirm or not c.needs_confirmation()]
    if not usable:
        return None
    usable.sort(key=lambda c: c.rank())
    if len(usable) > 1 and allow_confirm and ui is not None and hasattr(ui, "choose_application"):
        i = ui.choose_application([c.label for c in usable])
        if i is None or not 0 <= i < len(usable):
            trace.append("cardholder cancelled application selection")
            return None
        return usable[i]
    c = usable[0]
    if c.needs_confirmation() and ui is not None and hasattr(ui, "confirm_application"):
        if not ui.confirm_application(c.label):
            trace.append("cardholder declined %s" % c.label)
            cands.remove(c)
            return choose(cands, cfg, ui, trace)
    return c


def final_select(card, cand):
    """SELECT the chosen ADF; return the FCI or None (remove and choose again)."""
    data, sw = card.select(cand.aid)
    if sw != _SW_OK:
        return None, sw
    try:
        df = tlv.tlv_find(data, 0x84)
        a5 = tlv.tlv_find(data, 0xA5)
    except ValueError:
        return None, sw
    if not df or a5 is None:
        return None, sw
    cand.fci = data
    return data, sw
