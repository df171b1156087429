"""Who is speaking in one channel: speaker embeddings, clustering, live split, voiceprint, roles."""
