"""BuildKit's session: the gRPC services the client serves to the daemon during a build."""
