/* repo-roles.h: the delegation graph of a repository, as its staged view describes it.
 *
 * Root describes the top-level roles (TUF §4.3); targets roles describe delegated roles, either
 * one by one in delegations.roles or as succinct hash bins in delegations.succinct_roles
 * (TAP 15). A role "entry" is the object that names a role's keyids and threshold: root's
 * roles.ROLE, an element of delegations.roles, or delegations.succinct_roles for every bin.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "repo-store.h"

G_BEGIN_DECLS

/* TRUE for "targets" and delegated roles (everything but root, timestamp and snapshot). */
gboolean sb_repo_is_targets_role (const char *role);

/* The role that delegates @role: "root" for the top-level roles, else the first targets role
 * (pre-order from "targets", as a client searches) that delegates it by name or as a bin.
 * SB_ERROR_NOT_FOUND when nothing delegates it. */
char *sb_repo_find_delegator (SbRepo *repo, const char *role,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Every targets role reachable from "targets", in pre-order, each once; the bins of a succinct
 * delegation in bin order. */
GPtrArray *sb_repo_list_targets_roles (SbRepo *repo, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* @role's entry in @delegator_signed, the signed part of @delegator (borrowed), or NULL when
 * @delegator does not delegate @role. */
JsonObject *sb_repo_role_entry (JsonObject *delegator_signed, const char *delegator,
                                const char *role);
/* The key dictionary of a delegator: root's "keys", or targets' "delegations"."keys"
 * (created, with an empty "roles" array, when @create). NULL when absent. */
JsonObject *sb_repo_key_dict (JsonObject *delegator_signed, const char *delegator, gboolean create);

/* The signers this repository holds for the keyids of @entry (keys/KEYID.pem), in the entry's
 * order; keyids without a private key here are skipped. */
GPtrArray *sb_repo_entry_signers (SbRepo *repo, JsonObject *entry,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The threshold of @entry (1 when missing or malformed). */
gint64 sb_repo_entry_threshold (JsonObject *entry);

/* TRUE when two entries name the same set of keyids with the same threshold. NULL equals
 * only NULL. */
gboolean sb_repo_entries_equal (JsonObject *a, JsonObject *b);

/* Adds @key to @delegator's key dictionary and to @entry's keyids. */
void sb_repo_entry_add_key (JsonObject *key_dict, JsonObject *entry, SbKey *key);
/* Removes from @delegator's key dictionary the keys that no entry names any more. */
void sb_repo_prune_keys (JsonObject *delegator_signed, const char *delegator);

/* The role a new target @target goes to: @start_role (default "targets"), then down the
 * delegations, each time into the first delegated role (or succinct bin) trusted for the path,
 * as a client searches. SB_ERROR_INVALID_ARGUMENT when @start_role is a delegated role whose
 * delegator does not trust it for @target (a client would never find the target there). */
char *sb_repo_role_for_target (SbRepo *repo, const char *start_role, const char *target,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Looks @target up in every targets role; returns its description (borrowed) and the role
 * that lists it, or NULL. */
JsonObject *sb_repo_find_target (SbRepo *repo, const char *target, char **out_role, GError **error);

G_END_DECLS
