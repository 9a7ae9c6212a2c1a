/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * strings.c - short lowercase names for errors, hooks, reasons and update
 * blockers, for tools and audit records.  Never NULL: an unknown value
 * gets a placeholder rather than a crash in a log line.
 */
#include "acm/acm_private.h"

const char *acm_strerror(enum acm_err err)
{
	switch (err) {
	case ACM_OK: return "success";
	case ACM_E_ARG: return "invalid argument";
	case ACM_E_TRUNCATED: return "policy truncated";
	case ACM_E_MAGIC: return "not an hvsec binary policy";
	case ACM_E_VERSION: return "unsupported format version";
	case ACM_E_LENGTH: return "bad total length";
	case ACM_E_HASH: return "hash mismatch (corrupted)";
	case ACM_E_HEADER: return "bad header";
	case ACM_E_SECTION: return "bad section table";
	case ACM_E_SECTION_SIZE: return "bad section size or count";
	case ACM_E_STRING: return "bad string";
	case ACM_E_NAME: return "bad name";
	case ACM_E_META: return "bad policy header fields";
	case ACM_E_TYPE_ORDER: return "types not strictly ascending";
	case ACM_E_LABEL: return "bad label";
	case ACM_E_BITSET: return "bits set beyond the type count";
	case ACM_E_CONFLICT: return "bad conflict set";
	case ACM_E_BOOTSTRAP: return "bootstrap is not a vm label";
	case ACM_E_TRAILING: return "trailing bytes before the trailer";
	case ACM_E_NOMEM: return "donated memory too small";
	case ACM_E_NOLABEL: return "unknown label";
	case ACM_E_STATE: return "inconsistent state";
	case ACM_E_LIMIT: return "caller array too small";
	case ACM_E__COUNT: break;
	}
	return "unknown error";
}

const char *acm_hook_name(enum acm_hook hook)
{
	switch (hook) {
	case ACM_HOOK_DOMAIN_CREATE: return "domain create";
	case ACM_HOOK_DOMAIN_DESTROY: return "domain destroy";
	case ACM_HOOK_EVTCHN_UNBOUND: return "evtchn unbound";
	case ACM_HOOK_EVTCHN_INTERDOMAIN: return "evtchn interdomain";
	case ACM_HOOK_EVTCHN_SEND: return "evtchn send";
	case ACM_HOOK_GNT_SETUP: return "grant setup";
	case ACM_HOOK_GNT_MAP_READ: return "grant map read";
	case ACM_HOOK_GNT_MAP_WRITE: return "grant map write";
	case ACM_HOOK_GNT_UNMAP: return "grant unmap";
	case ACM_HOOK_GNT_COPY: return "grant copy";
	case ACM_HOOK_GNT_TRANSFER: return "grant transfer";
	case ACM_HOOK_RESOURCE_USE: return "resource use";
	case ACM_HOOK_HOST_AUTHORIZE: return "host authorize";
	case ACM_HOOK_XS_INTRODUCE: return "xenstore introduce";
	case ACM_HOOK__COUNT: break;
	}
	return "none";
}

const char *acm_reason_name(enum acm_reason r)
{
	switch (r) {
	case ACM_R_SHARED_TYPE: return "shared type";
	case ACM_R_NO_SHARED_TYPE: return "no shared type";
	case ACM_R_SUPERSET: return "host covers label";
	case ACM_R_NOT_SUPERSET: return "host lacks type";
	case ACM_R_INACCESSIBLE: return "resource inaccessible";
	case ACM_R_CHWALL_OK: return "no conflict";
	case ACM_R_CHWALL_CONFLICT: return "chinese wall conflict";
	case ACM_R_CHWALL_HISTORY: return "chinese wall history";
	case ACM_R_BAD_LABEL: return "bad label";
	case ACM_R_UNLABELED_REFUSED: return "unlabeled refused";
	case ACM_R_NO_POLICY_COMPONENT: return "no policy component";
	case ACM_R__COUNT: break;
	}
	return "unknown reason";
}

const char *acm_blocker_name(enum acm_blocker_kind k)
{
	switch (k) {
	case ACM_B_VERSION: return "version prevents update";
	case ACM_B_BAD_RENAME: return "bad rename";
	case ACM_B_LABEL_IN_USE: return "label in use";
	case ACM_B_RESOURCE_IN_USE: return "resource label in use";
	case ACM_B_CHWALL_CONFLICT: return "chinese wall conflict";
	case ACM_B_SHARING: return "sharing would break";
	case ACM_B_RESOURCE: return "resource access would break";
	case ACM_B_BOOTSTRAP: return "dom0 label would vanish";
	case ACM_B_DOMAIN_UNKNOWN: return "unknown domain";
	}
	return "unknown blocker";
}
