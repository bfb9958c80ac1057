"""One module per client, each with a `Client` running every workload through that client's
normal public API. Workers import exactly one of them."""
