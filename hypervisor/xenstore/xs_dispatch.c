/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_dispatch.c - the one place every request passes: the table of
 * request types, the checks common to all of them, and the reply.
 *
 * Order of the common checks (Xen's process_message()): a type with no
 * handler is ENOSYS; a privileged-only type from an unprivileged
 * connection is EACCES; a tx_id that names no open transaction of this
 * connection is ENOENT.  Then the handler; an error becomes an XS_ERROR
 * reply carrying the errno's name, with req_id and tx_id echoed.
 */
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

#define F_NOTID 0x1u /* the tx_id is ignored */
#define F_PRIV	0x2u /* privileged connections only */

static const struct {
	int (*fn)(struct xs_req *rq);
	uint32_t flags;
} ops[XS_TYPE_COUNT] = {
	[XS_CONTROL] = {xs_op_control, F_PRIV},
	[XS_DIRECTORY] = {xs_op_directory, 0},
	[XS_READ] = {xs_op_read, 0},
	[XS_GET_PERMS] = {xs_op_get_perms, 0},
	[XS_WATCH] = {xs_op_watch, F_NOTID},
	[XS_UNWATCH] = {xs_op_unwatch, F_NOTID},
	[XS_TRANSACTION_START] = {xs_op_txn_start, 0},
	[XS_TRANSACTION_END] = {xs_op_txn_end, 0},
	[XS_INTRODUCE] = {xs_op_introduce, F_PRIV},
	[XS_RELEASE] = {xs_op_release, F_PRIV},
	[XS_GET_DOMAIN_PATH] = {xs_op_get_domain_path, 0},
	[XS_WRITE] = {xs_op_write, 0},
	[XS_MKDIR] = {xs_op_mkdir, 0},
	[XS_RM] = {xs_op_rm, 0},
	[XS_SET_PERMS] = {xs_op_set_perms, 0},
	[XS_IS_DOMAIN_INTRODUCED] = {xs_op_is_introduced, F_PRIV},
	[XS_RESUME] = {xs_op_resume, F_PRIV},
	[XS_SET_TARGET] = {xs_op_set_target, F_PRIV},
	[XS_RESET_WATCHES] = {xs_op_reset_watches, F_NOTID},
	[XS_DIRECTORY_PART] = {xs_op_directory_part, 0},
};

long xs_req_onearg(const struct xs_req *rq)
{
	const char *nul;

	if (rq->len == 0)
		return -1;
	nul = memchr(rq->payload, '\0', rq->len);
	if (nul != rq->payload + rq->len - 1)
		return -1;
	return (long)rq->len - 1;
}

int xs_req_auth(struct xs_req *rq, const struct xs_auth *a)
{
	int rc;

	if (!rq->srv->auth || rq->conn->internal)
		return 0;
	rc = rq->srv->auth(rq->srv->auth_arg, a);
	if (rc == 0)
		return 0;
	return rc > 0 ? rc : EACCES;
}

void xs_dispatch(struct xs_conn *conn, const struct xsd_sockmsg *hdr,
		 const char *payload)
{
	struct xs_server *srv = conn->srv;
	struct xs_req rq = {
		.srv = srv,
		.conn = conn,
		.type = hdr->type,
		.req_id = hdr->req_id,
		.tx_id = hdr->tx_id,
		.payload = payload,
		.len = hdr->len,
	};
	const char *name;
	int rc;

	srv->st.requests++;
	xs_conn_who(conn, &rq.who);
	if (hdr->type >= XS_TYPE_COUNT || !ops[hdr->type].fn) {
		rc = ENOSYS;
	} else if ((ops[hdr->type].flags & F_PRIV) && !rq.who.priv) {
		rc = EACCES;
	} else if (!(ops[hdr->type].flags & F_NOTID) && hdr->tx_id &&
		   !(rq.tx = xs_req_txn(conn, hdr->tx_id))) {
		rc = ENOENT;
	} else {
		rc = ops[hdr->type].fn(&rq);
	}
	if (!rc && rq.reply_len > XS_PAYLOAD_MAX)
		rc = E2BIG;
	if (rc) {
		srv->st.errors++;
		name = xs_errno_name(rc);
		rc = xs_conn_queue(conn, XS_ERROR, hdr->req_id, hdr->tx_id,
				   name, (uint32_t)strlen(name) + 1);
	} else if (rq.reply) {
		rc = xs_conn_queue(conn, hdr->type, hdr->req_id, hdr->tx_id,
				   rq.reply, rq.reply_len);
	} else {
		rc = xs_conn_queue(conn, hdr->type, hdr->req_id, hdr->tx_id,
				   "OK", 3);
	}
	if (rc)
		xs_conn_close(conn, XS_CLOSE_NOMEM);
	if (rq.initial)
		xs_wt_initial_event(rq.initial);
}
