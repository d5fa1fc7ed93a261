"""Example routing policies for the demo's `routing_policy_eval` (config key `policies`).

A policy takes one request record (record_id, routing_path, served_model, route_reason, task_type,
prompt) and returns a routing path or a model name.
"""

from __future__ import annotations


def code_off_fallback(record: dict) -> str:
    """The production routing, except that code queries always go to the code path, never the fallback."""
    if record.get("task_type") == "code":
        return "code"
    return record["routing_path"]
