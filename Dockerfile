# moxi, membase-mock, loadgen and pagegate in one image, FROM scratch: no
# base image can be pulled here, so there is no multi-stage build. The
# binaries are built static (CGO_ENABLED=0) outside, by
# deploy/docker/build.sh, which also lays out the build context:
#   docker build -f Dockerfile deploy/docker/context
# scratch has no shell, CA certificates or /etc/passwd: every command is
# exec form, the user is numeric, and moxi needs none of them (its TLS
# trusts the fleet's own CA files, never the system store).
FROM scratch

COPY bin/ /bin/
# cluster_data lives in /data. A named volume starts as a copy of this
# directory, ownership included, so the non-root user can write it.
COPY --chown=10001:10001 data/ /data/

USER 10001:10001
VOLUME /data
# proxy, admin HTTP, gossip (TCP and UDP), raft
EXPOSE 11211 8290 7946/tcp 7946/udp 7947

# Exit code of moxi status: 0 once the node's admin server answers
# /status. An admin server off loopback needs a token: compose overrides
# this with -token-file.
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/bin/moxi", "status", "127.0.0.1:8290"]

ENTRYPOINT ["/bin/moxi"]
