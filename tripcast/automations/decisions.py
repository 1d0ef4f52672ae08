"""What to do with one claimed job, decided without I/O.

Order matters and mirrors how a careful operator would reason: is the rule still live,
is its subject still what it was planned for, may this traveller receive it at all,
and only then, is it a good time (quiet hours defer, never drop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tripcast.automations.context import JobContext, render_context
from tripcast.rules.actions import parse_action_config
from tripcast.rules.categories import gate
from tripcast.rules.config_errors import InvalidRuleConfig, UnknownTimezone
from tripcast.rules.consent import account_skip_reason
from tripcast.rules.placeholders import render
from tripcast.rules.quiet_hours import quiet_hours_end_for
from tripcast.rules.rule import Rule, action_texts, parse_rule

TRIP_TRIGGERS = ("trip_start", "trip_end", "budget_exceeded")


@dataclass(frozen=True)
class Cancel:
    reason: str


@dataclass(frozen=True)
class Fail:
    reason: str


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Act:
    rule: Rule
    values: dict[str, dict[str, object]]


Decision = Cancel | Fail | Defer | Act


def job_rule(job: JobContext) -> Rule:
    """The job's rule, or for a job inserted without one, its ``payload.action_config``."""
    if job.rule is not None:
        return parse_rule(
            trigger_type=job.rule["trigger_type"],
            trigger_config=job.rule["trigger_config"],
            action_type=job.rule["action_type"],
            action_config=job.rule["action_config"],
        )
    action = parse_action_config(job.job_type, job.payload.get("action_config"))
    return parse_rule(
        trigger_type="schedule",
        trigger_config={"cron": "* * * * *"},
        action_type=job.job_type,
        action_config=action.model_dump(exclude_none=True),
    )


def subject_problem(job: JobContext, trigger_type: str) -> str | None:
    """Why the job's subject no longer warrants it (trip gone, moved, booking settled)."""
    if trigger_type in TRIP_TRIGGERS or (trigger_type == "booking_pending" and job.trip_id):
        if job.trip is None:
            return "trip_gone"
        if job.trip.get("status") == "cancelled":
            return "trip_cancelled"
    if trigger_type in ("trip_start", "trip_end"):
        column = "start_date" if trigger_type == "trip_start" else "end_date"
        if job.trip is not None and job.trip.get(column) != job.day:
            return "trip_rescheduled"
    if trigger_type == "booking_pending":
        if job.booking is None:
            return "booking_gone"
        if job.booking.get("status") != "pending":
            return "booking_no_longer_pending"
    return None


def consent_problem(job: JobContext, rule: Rule) -> str | None:
    if rule.action_type == "send_whatsapp":
        reason = account_skip_reason(job.account)
        if reason is not None:
            return reason
    if rule.action_type == "send_email" and not job.email:
        return "no_email_address"
    return gate(job.preferences, rule.category)


def quiet_until(job: JobContext, now: datetime) -> datetime | None:
    try:
        return quiet_hours_end_for(now, job.preferences)
    except UnknownTimezone:
        # A traveller's unknown timezone must not silence them: read their quiet hours
        # in UTC rather than drop or fail the notification.
        return quiet_hours_end_for(now, {**(job.preferences or {}), "timezone": "UTC"})


def decide(job: JobContext, *, now: datetime) -> Decision:
    if job.rule is not None and job.rule["is_active"] is not True:
        return Cancel("rule_inactive")
    try:
        rule = job_rule(job)
    except InvalidRuleConfig as error:
        return Fail(f"invalid rule: {error}")
    problem = subject_problem(job, rule.trigger_type if job.rule else "schedule")
    if problem is None and rule.notifies:
        problem = consent_problem(job, rule)
    if problem is not None:
        return Cancel(problem)
    if rule.notifies:
        until = quiet_until(job, now)
        if until is not None:
            return Defer(until=until, reason="quiet_hours")
    values = render_context(job, now=now)
    try:
        for text in action_texts(rule.action):
            render(text, values)
    except InvalidRuleConfig as error:
        return Fail(f"cannot render message: {error}")
    return Act(rule=rule, values=values)
