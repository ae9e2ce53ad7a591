"""Facts taken from LeadSquared's documentation, in one place.

Shared by the importer and the sandbox (the only module the sandbox imports).
Pages: shared/api-docs (Capture Opportunities sync/async, Update an Opportunity
(Async), Share an Opportunity, Get Opportunities by Lead Id) and the facts in
shared/api-docs/README.md (rate plans, Status and Metrics APIs).
"""

from __future__ import annotations

# Rate limits by plan, calls per 5 seconds (README: "Rate limits by plan").
RATE_WINDOW_SECONDS = 5.0
RATE_PLANS: dict[str, int] = {
    "lite": 2,
    "pro": 5,
    "super": 10,
    "basic": 10,
    "standard": 15,
    "enterprise": 25,
}
DEFAULT_RATE = "25/5s"
# 429 body text, as on every API page ("API calls exceeded the limit of 25 in 5 second(s)").
RATE_LIMIT_MESSAGE = "API calls exceeded the limit of {limit} in {seconds} second(s)"

# Endpoint paths (CONTRACT section 4). The status and metrics paths are not in the
# public docs we have, so every path can be overridden from settings.
DEFAULT_PATHS: dict[str, str] = {
    "capture_async": "/opportunity/capture",
    "capture_status": "/opportunity/capture/status",
    "capture_metrics": "/opportunity/capture/metrics",
    "capture_sync": "/v2/OpportunityManagement.svc/Capture",
    "update_async": "/opportunity/update",
    "update_status": "/opportunity/update/status",
    "update_metrics": "/opportunity/update/metrics",
    "share": "/v2/EntityAccess.svc/Share",
    "opportunities_of_lead": "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead",
    # Get Lead APIs (README "Get Lead APIs"): how a read-back finds the lead.
    "lead_by_email": "/v2/LeadManagement.svc/Leads.GetByEmailaddress",
    "leads_by_quick_search": "/v2/LeadManagement.svc/Leads.GetByQuickSearch",
    "lead_by_id": "/v2/LeadManagement.svc/Leads.GetById",
}

# Async APIs answer this on acceptance (Capture Opportunities (Async) page).
ACCEPTED_STATUS_TEXT = "Request accepted. Please use below request id to check the status"

# Status API: TaskStatus.Status values.
TASK_IN_QUEUE = "In-Queue"
TASK_SUCCESS = "Success"
TASK_FAILURE = "FAILURE"
TASK_ERROR = "ERROR"
TASK_FINAL_STATES = frozenset({TASK_SUCCESS, TASK_FAILURE, TASK_ERROR})

# Error answers whose ExceptionType blames LeadSquared's side (an HTTP 5xx with it is retried;
# other MX...Exceptions are about the data sent). Compared ignoring case.
SERVER_EXCEPTION_TYPES = frozenset({"mxunknownexception"})

# Capture Opportunities response "Status": 0 Success, 1 Failure, 2 PartialSuccess.
CAPTURE_STATUS_SUCCESS = 0
CAPTURE_STATUS_FAILURE = 1
CAPTURE_STATUS_PARTIAL = 2

# PrimaryAction / SecondaryAction values.
ACTION_CREATE_OPPORTUNITY = 1
ACTION_CAPTURED_ACTIVITY = 2
ACTION_DUPLICATE_DETECTED = 3
# AdditionalDetails.PostDeDupActionPerformed: 1 created, 3 duplicate detected.
DEDUP_CREATED = 1
DEDUP_DUPLICATE = 3

# Capture Opportunities: the comment field required on a Won/Lost status change.
STATUS_COMMENT_FIELD = "mx_Custom_19"
STATUS_COMMENT_STATES = ("Won", "Lost")
# The sandbox's optional duplicate rule (`--duplicate-rule`; a new account has none):
# same lead, event code and this field.
DUPLICATE_KEY_FIELD = "mx_Custom_1"
SEARCH_BY_ATTRIBUTE = "SearchBy"

# Share an Opportunity page.
SHARE_ENTITY_OPPORTUNITY = 5
SHARE_ENTITY_TYPE_USER = 3
SHARE_ACCESS_READ = 1
SHARE_ACCESS_EDIT = 2
SHARE_DEFAULT_MINUTES = 90 * 24 * 60  # "the default value will be 90 days"

# Get Opportunities by Lead Id: paging.
OPPORTUNITIES_PAGE_SIZE = 100

# Formats every value is sent in (CONTRACT section 5).
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Header names for the sandbox and the client.
API_KEY_HEADER = "x-api-key"
