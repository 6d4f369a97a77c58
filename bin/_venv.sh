# Sourced by bin/dev and bin/test: make .venv and install the project into it,
# but only when pyproject.toml (or the extras asked for) changed since the
# last install, so a restart takes seconds instead of a reinstall.
#   venv_ensure ""        the app
#   venv_ensure "[test]"  the app and what the tests need
venv_ensure() {
  local extras="$1" stamp=".venv/.installed" hash have_hash="" have_extras=""
  [ -x .venv/bin/python ] || "${PYTHON:-python3.11}" -m venv .venv
  hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  [ -f "$stamp" ] && read -r have_hash have_extras < "$stamp"
  # An install with the test extras serves a plain run too.
  if [ "$have_hash" = "$hash" ] && { [ "$have_extras" = "$extras" ] || [ -z "$extras" ]; }; then
    return 0
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".$extras"
  echo "$hash $extras" > "$stamp"
}
