"""The bash, zsh and fish glue: each asks `_JSCTL_COMPLETE=<shell> jsctl WORDS...` for candidates.

The protocol is one `type<TAB>value<TAB>help` line per candidate; type `file`/`dir` hands the
word to the shell's own path completion. Errors go to /dev/null, never into the prompt.
"""

from __future__ import annotations

BASH = r"""# jsctl completion for bash; enable with:  eval "$(jsctl completion bash)"
_jsctl_complete() {
    local kind value help
    COMPREPLY=()
    while IFS=$'\t' read -r kind value help; do
        case $kind in
            plain) COMPREPLY+=("$value") ;;
            file|dir)
                compopt -o filenames 2>/dev/null
                local IFS=$'\n' type=-f
                [[ $kind == dir ]] && type=-d
                COMPREPLY+=($(compgen "$type" -- "${COMP_WORDS[COMP_CWORD]}")) ;;
        esac
    done < <(_JSCTL_COMPLETE=bash "$1" "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}
complete -F _jsctl_complete jsctl
"""

ZSH = r"""#compdef jsctl
# jsctl completion for zsh; enable with:  eval "$(jsctl completion zsh)"  (after compinit)
_jsctl() {
    local -a values descriptions
    local line kind value help output
    output=$(_JSCTL_COMPLETE=zsh "${words[1]}" "${(@)words[2,CURRENT]}" 2>/dev/null)
    for line in "${(@f)output}"; do
        [[ -z $line ]] && continue
        kind=${line%%$'\t'*}; line=${line#*$'\t'}
        value=${line%%$'\t'*}; help=${line#*$'\t'}
        case $kind in
            plain) values+=("$value"); descriptions+=("$value${help:+  -- $help}") ;;
            file) _files ;;
            dir) _files -/ ;;
        esac
    done
    (( $#values )) && compadd -l -d descriptions -a values
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _jsctl "$@"
elif (( $+functions[compdef] )); then
    compdef _jsctl jsctl
fi
"""

FISH = r"""# jsctl completion for fish; enable with:  jsctl completion fish | source
function __jsctl_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l command $tokens[1]
    set -e tokens[1]
    for line in (env _JSCTL_COMPLETE=fish $command $tokens $current 2>/dev/null)
        set -l parts (string split \t -- $line)
        switch $parts[1]
            case plain
                printf '%s\t%s\n' $parts[2] $parts[3]
            case file
                __fish_complete_path $current
            case dir
                __fish_complete_directories $current
        end
    end
end
complete -c jsctl -f -a '(__jsctl_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}

# The one line each shell's start-up file needs (for `jsctl completion --help` and the README).
ENABLE = {
    "bash": 'eval "$(jsctl completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(jsctl completion zsh)"    # in ~/.zshrc, after compinit',
    "fish": "jsctl completion fish | source    # in ~/.config/fish/config.fish",
}
