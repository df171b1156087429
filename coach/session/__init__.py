"""A coached call: the coaching loop and its subscribers, the session on disk, the report, exports."""
