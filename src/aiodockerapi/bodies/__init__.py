"""What travels in request and response bodies, and how it is cut into values: JSON
(`codec`), JSON value streams (`jsonstream`), multiplexed frames (`demux`), attached stdio
(`streams`), streams opened before iterating (`streaming`), archives with a metadata header
(`download`), and build contexts tarred on the fly (`build_context`, with the `.dockerignore`
matching of `dockerignore`)."""
