"""The resources: one module per area of the API (docker.containers, docker.images, ...),
each a class of methods that bind an operation and call the request layer.

`base.Resource` is their base. A resource's jobs beyond one call each sit in modules of
their own on top of its operations: a container's archives, runs and waits, an image's
builds and archives. `client.Docker` imports each on first use.
"""
