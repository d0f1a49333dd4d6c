#!/bin/bash
# The two file lists kept by hand match the files on disk:
#   - README.md's "Layout" table: every folder it lists exists, every
#     top-level source folder is listed, every file a row names (`name.c`,
#     `name.h`) exists in that row's folder, and a row that names any .c file
#     of its folder names all of them (efi/ and loader/ are described file
#     by file);
#   - the "Layout of format/" list at the top of format/vhd.h names exactly
#     the files in format/.
source "$(dirname "$0")/../lib.sh"
cd "$T_ROOT" || exit 1

# --- README's layout table ---------------------------------------------------
table=$(awk '/^## Layout/ { on = 1; next } on && /^## / { exit } on && /^\| `[^`]*\/` \|/' README.md)
if [ -z "$table" ]; then
    t_fail "README has a layout table"
    exit 1
fi
t_ok "README has a layout table ($(wc -l <<<"$table") folders)"

listed=$(sed -E 's/^\| `([^`]*)\/` \|.*/\1/' <<<"$table" | sort)
for dir in $listed; do
    if [ -d "$dir" ]; then t_ok "README layout: $dir/ exists"; else t_fail "README layout: $dir/ exists"; fi
done
# Top-level folders with C, shell or make sources must have a row.
for dir in $(git ls-files | awk -F/ 'NF > 1 && /\.(c|h|sh|mk|py)$/ { print $1 }' | sort -u); do
    if grep -qx "$dir" <<<"$listed"; then t_ok "README layout lists $dir/"; else t_fail "README layout lists $dir/"; fi
done

while IFS= read -r row; do
    dir=$(sed -E 's/^\| `([^`]*)\/` \|.*/\1/' <<<"$row")
    named=$(grep -oE '`[A-Za-z0-9_./-]+\.[ch]`' <<<"$row" | tr -d '`' | sort -u)
    [ -z "$named" ] && continue
    bad=""
    for f in $named; do
        case $f in */*) path=$f ;; *) path=$dir/$f ;; esac
        [ -f "$path" ] || bad="$bad $path"
    done
    if [ -z "$bad" ]; then t_ok "README layout, $dir/: every file named exists"
    else t_fail "README layout, $dir/: every file named exists" "missing:$bad"; fi
    if grep -q '\.c$' <<<"$named"; then
        unnamed=""
        for f in "$dir"/*.c; do
            grep -qx "$(basename "$f")" <<<"$named" || unnamed="$unnamed $(basename "$f")"
        done
        if [ -z "$unnamed" ]; then t_ok "README layout, $dir/: names every .c file of the folder"
        else t_fail "README layout, $dir/: names every .c file of the folder" "not named:$unnamed"; fi
    fi
done <<<"$table"

# --- format/vhd.h's file list -------------------------------------------------
# Lines " *   name[, name]   what" after "Layout of format/" up to the next " *" line.
in_header=$(awk '/Layout of format\// { on = 1; next } on && /^ \*$/ { exit }
                 on && /^ \*   [A-Za-z_.]/ { sub(/^ \*   /, ""); print }' format/vhd.h |
            sed -E 's/^([A-Za-z0-9_]+\.[ch](, [A-Za-z0-9_]+\.[ch])*) .*/\1/; s/, / /g' | tr ' ' '\n' | grep -v '^$' | sort)
on_disk=$(cd format && ls -- *.c *.h | sort)
if [ -z "$in_header" ]; then
    t_fail "format/vhd.h has its file list"
elif [ "$in_header" = "$on_disk" ]; then
    t_ok "format/vhd.h's file list names exactly the files in format/ ($(wc -l <<<"$on_disk"))"
else
    t_fail "format/vhd.h's file list names exactly the files in format/" \
        "only in the list: $(comm -23 <(echo "$in_header") <(echo "$on_disk") | tr '\n' ' ')" \
        "only on disk: $(comm -13 <(echo "$in_header") <(echo "$on_disk") | tr '\n' ' ')"
fi
exit $T_FAILED
