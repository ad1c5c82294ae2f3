# shellcheck shell=bash
# Sourced by scripts/test-deploy.sh (uses its REPO, TMP, ID, root, log and die).
# Checks that need no hosts, run first because they take seconds: the playbooks' syntax and lint, and the NATS
# credentials tasks alone on this host. Sets t_lint.

# ---- the playbooks pass --syntax-check and ansible-lint (its cache kept in $TMP) ----
t_start=$SECONDS
(cd "$REPO/ansible" && export ANSIBLE_CONFIG="$REPO/ansible/ansible.cfg" XDG_CACHE_HOME="$TMP/xdg-cache" ANSIBLE_LOCAL_TEMP="$TMP/ansible-local" \
  && ansible-playbook -i inventory.example.ini --syntax-check prepare.yml deploy.yml >/dev/null \
  && { ! command -v ansible-lint >/dev/null || ansible-lint --nocolor -q prepare.yml deploy.yml; }) || die "syntax-check or ansible-lint failed"
t_lint=$((SECONDS - t_start))
log "syntax-check and ansible-lint passed in ${t_lint}s"

# ---- the NATS credentials tasks alone, on this host (seconds): NATS left open is a WARNING; a credentials file
# that lacks a password fails the deploy instead of running NATS with a stand-in everyone can read in the role ----
t_start=$SECONDS
cat >"$TMP/creds.yml" <<'YAML'
- name: The NATS credentials tasks alone
  hosts: all
  gather_facts: false
  tasks:
    - name: Load the NATS credentials
      ansible.builtin.include_role:
        name: nats
        tasks_from: credentials
YAML
creds_play() {  # creds_play ARGS...: the credentials tasks with the playbooks' group_vars/all.yml; prints the output
  (cd "$REPO/ansible" && ANSIBLE_CONFIG="$REPO/ansible/ansible.cfg" ANSIBLE_ROLES_PATH="$REPO/ansible/roles" \
    ANSIBLE_LOCAL_TEMP="$TMP/ansible-local" ANSIBLE_NOCOLOR=1 \
    ansible-playbook -i localhost, -c local -e @group_vars/all.yml "$@" "$TMP/creds.yml" 2>&1)
}
out="$(creds_play -e nats_auth_password= -e nats_cluster_password=)" || die "the credentials tasks failed with NATS open: $out"
[[ "$out" == *"WARNING: nats_auth_password is empty"*"nats_cluster_password is empty"* ]] || die "NATS left open printed no WARNING: $out"
printf 'nats_auth_password: 0123456789abcdef0123456789abcdef\n' >"$TMP/partial-creds.yml"; chmod 600 "$TMP/partial-creds.yml"
out="$(creds_play -e "nats_credentials_file=$TMP/partial-creds.yml")" && die "a credentials file without nats_cluster_password was accepted: $out"
[[ "$out" == *"defines no nats_cluster_password"* ]] || die "a credentials file without nats_cluster_password failed, but not saying so: $out"
log "NATS credentials: open NATS warns, a file lacking a password fails the deploy ($((SECONDS - t_start))s)"
