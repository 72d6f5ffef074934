"""The console's areas, a blueprint each, and the navigation (shown as far as the account may)."""

from __future__ import annotations

from . import admin, appeals, cases, dashboard, periods, registry, review, scores, statistics, units

AREAS = [dashboard.bp, units.bp, cases.bp, appeals.bp, registry.bp, review.bp, scores.bp, statistics.bp,
         periods.bp, admin.bp]

#: (title, endpoint, action): a menu entry shows to an account that may take the action
MENU = [
    ("工作台", "console_dashboard.index", "dashboard.read"),
    ("单位与窗口", "console_units.index", "units.list"),
    ("差评工单", "console_cases.index", "cases.read"),
    ("评价审核", "console_review.index", "review.decide"),
    ("申诉复核", "console_appeals.index", "appeals.decide"),
    ("得分排名", "console_scores.index", "scores.read"),
    ("统计分析", "console_statistics.index", "scores.read"),
    ("评议期", "console_periods.index", "results.read"),
    ("登记与导入", "console_registry.index", "registry.edit"),
    ("办事大厅", "console_statistics.halls", "halls.read"),
    ("API 密钥", "console_admin.keys", "keys.manage"),
    ("账号", "console_admin.accounts", "accounts.manage"),
    ("审计日志", "console_admin.audit", "audit.read"),
]
