# Message catalog: every text the merchant sees, by key, in English and
# Simplified Chinese; another language adds a dict with the same keys.
_EN = {
    "ready": "READY",
    "test_keys": "TEST KEYS",
    "keys_refused": "KEY STORE REFUSED",
    "pending": "TO SEND",
    "press_menu": "MENU: functions",
    "menu": "MENU",
    "sale": "Sale",
    "refund": "Refund",
    "reports": "Reports",
    "settings": "Settings",
    "about": "About",
    "not_yet": "Not available yet",
    "press_cancel": "CANCEL: back",
    "enter_amount": "Enter amount",
    "amount_too_large": "Amount over limit",
    "firmware": "Firmware",
    "board": "Board",
    "heap_free": "Heap free",
    "net_ok": "NET",
    "net_down": "NET!",
    "net_unknown": "NET?",
    "paper_ok": "PAPER",
    "paper_low": "PAPER LOW",
    "paper_out": "NO PAPER",
    "paper_unknown": "PAPER?",
    "confirm": "ENTER: yes  CANCEL: no",
    "cash": "Cash",
    "card": "Card",
    "qr": "QR",
    "cash_tendered": "Cash tendered",
    "not_enough_cash": "Less than the total:",
    "total": "Total",
    "change": "Change",
    "no_printer": "No printer: no receipt",
    "receipt_printed": "Receipt printed",
    "paper_out_reprint": "Load paper, F1 reprint",
    "enter_done_f1_reprint": "ENTER done  F1 reprint",
    "void": "Void",
    "preauth": "Pre-auth",
    "completion": "Completion",
    "balance": "Balance",
    "tip_adjust": "Tip adjust",
    "split": "Split tender",
    "insert_card": "INSERT CARD",
    "batch_full": "BATCH FULL - SETTLE",
    "remove_card": "REMOVE CARD",
    "no_reader": "Card reader not available",
    "approved": "APPROVED",
    "declined": "DECLINED",
    "not_completed": "NOT COMPLETED",
    "cancelled": "Cancelled",
    "timed_out": "Timed out",
    "auth_code": "AUTH",
    "enter_pin": "ENTER PIN",
    "online_pin": "ENTER PIN (ONLINE)",
    "last_pin_try": "LAST PIN TRY",
    "pin_too_short": "PIN: 4 to 12 digits",
    "pin_footer": "ENTER ok CLEAR CANCEL",
    "choose_app": "CHOOSE APPLICATION",
    "use_this_app": "Use this application?",
    "remaining": "Remaining",
    "paid": "Paid",
    "supervisor_pin": "Supervisor PIN",
    "operator_pin": "Operator PIN",
    "not_allowed": "Not allowed for this operator",
    "wrong_pin": "Wrong PIN",
    "invoice": "Invoice no.",
    "not_found": "Not found",
    "already_voided": "Already voided",
    "x_report": "X report",
    "z_report": "Z report",
    "txn_list": "Transactions",
    "reprint": "Reprint",
    "settled": "Settled",
    "settle_failed": "Settlement failed",
    "tip": "Tip",
    "original_inv": "Original invoice",
    "language": "Language",
    "scan_to_pay": "Scan with your wallet app",
    "insert_chip": "CHIP CARD: INSERT CHIP",
    "one_card_only": "PLEASE PRESENT ONE CARD",
    "merchant_name": "Merchant name",
    "tips": "Tips at sale",
    "on": "On",
    "off": "Off",
    "use_another_interface": "PLEASE INSERT OR SWIPE",
    "show_qr": "Show QR to customer",
    "scan_code": "Scan customer code",
    "scan_customer_code": "SCAN CUSTOMER CODE",
    "not_a_wallet_code": "Not a wallet code",
    "chip_error_swipe": "CHIP ERROR: SWIPE CARD",
    "amount_needed": "Key in an amount first",
    "over_limit": "Over limit: max {max}",
    "decimals_max": "{n} decimals at most",
    "exact": "F1 Exact",
    "card_removed": "CARD REMOVED",
    "tap_insert_swipe": "TAP, INSERT OR SWIPE",
    "wrong_pin_tries": "WRONG PIN: {n} TRIES LEFT",
    "wrong_pin_last": "WRONG PIN: LAST TRY",
    "signing_on": "Signing on to the host",
    "batch_open": "Transactions in batch: {n}",
    "qr_paid": "PAID BY WALLET",
    "no_host_record": "Offline, no host record",
    "error": "ERROR",
    "english": "English",
    "chinese": "中文",
    "enroll_title": "Cloud enrollment",
    "enroll_prompt": "Type the activation code",
    "enroll_prompt2": "or scan its QR code",
    "enroll_working": "Enrolling with the cloud...",
    "enrolled": "ENROLLED",
    "tms_on": "Management starts at restart",
    "enter_restart": "ENTER: restart now",
    "code_12_digits": "The code has 12 digits",
    "not_an_activation_code": "Not an activation code",
}


# Simplified Chinese.  Status-bar codes stay ASCII (they must fit the title bar);
# the glyphs come from the build-time subset (tools/posbuild/fonts.py).
_ZH = {
    "ready": "就绪",
    "pending": "待发送",
    "press_menu": "MENU: 功能菜单",
    "menu": "菜单",
    "sale": "消费",
    "refund": "退货",
    "reports": "报表",
    "settings": "设置",
    "about": "关于",
    "not_yet": "暂不可用",
    "press_cancel": "CANCEL: 返回",
    "enter_amount": "请输入金额",
    "amount_too_large": "金额超出上限",
    "firmware": "固件",
    "board": "主板",
    "heap_free": "可用内存",
    "confirm": "ENTER: 是  CANCEL: 否",
    "cash": "现金",
    "card": "银行卡",
    "qr": "扫码支付",
    "cash_tendered": "实收现金",
    "not_enough_cash": "少于应付金额:",
    "total": "合计",
    "change": "找零",
    "no_printer": "无打印机, 不打印凭条",
    "receipt_printed": "凭条已打印",
    "paper_out_reprint": "请装纸, F1 重打",
    "enter_done_f1_reprint": "ENTER 完成 F1 重打",
    "void": "撤销",
    "preauth": "预授权",
    "completion": "预授权完成",
    "balance": "余额查询",
    "tip_adjust": "小费调整",
    "split": "组合支付",
    "insert_card": "请插卡",
    "batch_full": "批次已满, 请结算",
    "remove_card": "请拔卡",
    "no_reader": "读卡器不可用",
    "approved": "交易成功",
    "declined": "交易拒绝",
    "not_completed": "交易未完成",
    "cancelled": "已取消",
    "timed_out": "已超时",
    "auth_code": "授权码",
    "enter_pin": "请输入密码",
    "online_pin": "请输入联机密码",
    "last_pin_try": "最后一次输入机会",
    "pin_too_short": "密码为4至12位",
    "pin_footer": "ENTER 确认 CLEAR 删除",
    "choose_app": "请选择应用",
    "use_this_app": "使用此应用?",
    "remaining": "待付",
    "paid": "已付清",
    "supervisor_pin": "主管密码",
    "operator_pin": "操作员密码",
    "not_allowed": "该操作员无权限",
    "wrong_pin": "密码错误",
    "invoice": "凭证号",
    "not_found": "未找到",
    "already_voided": "已撤销",
    "x_report": "X 报表",
    "z_report": "Z 报表 结班",
    "txn_list": "交易列表",
    "reprint": "重打凭条",
    "settled": "已结算",
    "settle_failed": "结算失败",
    "tip": "小费",
    "original_inv": "原凭证号",
    "language": "语言",
    "scan_to_pay": "请用钱包扫码支付",
    "insert_chip": "芯片卡请插卡",
    "one_card_only": "请只出示一张卡",
    "merchant_name": "商户名称",
    "tips": "消费时输入小费",
    "on": "开",
    "off": "关",
    "use_another_interface": "请插卡或刷卡",
    "show_qr": "出示收款码",
    "scan_code": "扫描付款码",
    "scan_customer_code": "请扫描付款码",
    "not_a_wallet_code": "不是钱包付款码",
    "chip_error_swipe": "芯片读取失败请刷卡",
    "amount_needed": "请先输入金额",
    "over_limit": "超出上限: {max}",
    "decimals_max": "最多{n}位小数",
    "exact": "F1 刚好",
    "card_removed": "卡已拔出",
    "tap_insert_swipe": "请挥卡, 插卡或刷卡",
    "wrong_pin_tries": "密码错误: 还剩{n}次",
    "wrong_pin_last": "密码错误: 最后一次",
    "signing_on": "正在签到",
    "batch_open": "本批次交易笔数: {n}",
    "qr_paid": "钱包已付款",
    "no_host_record": "主机未找到此交易",
    "error": "错误",
    "english": "English",
    "chinese": "中文",
}

_CATALOGS = {"en": _EN, "zh": _ZH}
LANGUAGES = ("en", "zh")
language = "en"
_SETTINGS = "config/terminal.json"


def set_language(lang, save=True):
    """Switch the display language ('en', 'zh'); kept in config/terminal.json."""
    global language
    if lang not in _CATALOGS:
        raise ValueError("language %r not one of %s" % (lang, ", ".join(LANGUAGES)))
    language = lang
    if save:
        import json
        try:
            with open(_SETTINGS) as f:
                d = json.load(f)
        except (OSError, ValueError):
            d = {}
        d["language"] = lang
        with open(_SETTINGS + ".tmp", "w") as f:
            json.dump(d, f)
        import os
        os.rename(_SETTINGS + ".tmp", _SETTINGS)


def load_language():
    """At boot: the language saved in config/terminal.json (English if none or bad)."""
    import json
    try:
        with open(_SETTINGS) as f:
            lang = json.load(f).get("language", "en")
        set_language(lang, save=False)
    except (OSError, ValueError, AttributeError):
        pass


def t(key, **fields):
    """The text for `key` in the current language ('{name}' fields filled in)."""
    text = _CATALOGS.get(language, _EN).get(key) or _EN.get(key) or key
    if fields:
        for k in fields:
            text = text.replace("{" + k + "}", str(fields[k]))
    return text
