"""Cases, follow-ups and appeals: what a 差评 starts (README "Cases").

- ``workdays``: working days of mainland China and deadlines counted in them.
- ``policy``: the settings of cases as one object (which levels, how many days).
- ``store``: a unit's cases, read and moved from state to state (one Lua script a step).
- ``appeals``: a unit's appeal of a counted tap, and the office's decision.
- ``rates``: the national rates (差评回复率, 整改率, 满意率, ...) from case records.
- ``citizen``: a case as its citizen sees it (the signed link is signing.case_link).
- ``notify``: the citizen's WeChat notice of the reply (one-time subscription, openid sealed).

No Flask here. Opening a case happens inside the counting scripts (lua/cases.lua).
"""
