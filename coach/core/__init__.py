"""The streaming engine: events, the conversation record, the pipeline and its runners. No I/O, no Qt."""
