"""The HTTP edge: routing (router), request rules (requests) and the JSON of every resource (responses)."""
