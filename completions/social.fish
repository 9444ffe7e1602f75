# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_social_global_optspecs
    string join \n project= color= v/verbose q/quiet h/help V/version
end

function __fish_social_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_social_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_social_using_subcommand
    set -l cmd (__fish_social_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c social -n "__fish_social_needs_command" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_needs_command" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_needs_command" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_needs_command" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_needs_command" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_needs_command" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_needs_command" -f -a "init" -d 'Create a project: social.toml, posts/ with an example post, .gitignore'
complete -c social -n "__fish_social_needs_command" -f -a "new" -d 'Create posts/<date>-<slug>.md with a stable id (as a draft)'
complete -c social -n "__fish_social_needs_command" -f -a "validate" -d 'Check posts: frontmatter, times, accounts, media and each platform\'s limits'
complete -c social -n "__fish_social_needs_command" -f -a "preview" -d 'Show what each account will receive: text of every part, length of the limit, media, problems'
complete -c social -n "__fish_social_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c social -n "__fish_social_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand init" -l timezone -d 'Timezone for times written without one (default: this machine\'s)' -r
complete -c social -n "__fish_social_using_subcommand init" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand init" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand init" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand init" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand init" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand init" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand new" -l at -d 'When to publish' -r
complete -c social -n "__fish_social_using_subcommand new" -l to -d 'Accounts to publish to, comma-separated' -r
complete -c social -n "__fish_social_using_subcommand new" -l queue -d 'Queue to join instead of a fixed time' -r
complete -c social -n "__fish_social_using_subcommand new" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand new" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand new" -l ready -d 'Mark the post ready at once instead of a draft'
complete -c social -n "__fish_social_using_subcommand new" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand new" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand new" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand new" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand validate" -l format -d 'Output format' -r -f -a "text\t'`path:line:column: severity: message`'
json\t'One JSON document'
github\t'GitHub Actions workflow commands (annotations)'"
complete -c social -n "__fish_social_using_subcommand validate" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand validate" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand validate" -l strict -d 'Treat warnings as errors'
complete -c social -n "__fish_social_using_subcommand validate" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand validate" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c social -n "__fish_social_using_subcommand validate" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand preview" -l to -d 'Only these accounts, comma-separated (default: the post\'s own targets)' -r
complete -c social -n "__fish_social_using_subcommand preview" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand preview" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand preview" -l json -d 'Print JSON instead of text'
complete -c social -n "__fish_social_using_subcommand preview" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand preview" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand preview" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand preview" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand completions" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand completions" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand completions" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand completions" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand completions" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand completions" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview completions help" -f -a "init" -d 'Create a project: social.toml, posts/ with an example post, .gitignore'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview completions help" -f -a "new" -d 'Create posts/<date>-<slug>.md with a stable id (as a draft)'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview completions help" -f -a "validate" -d 'Check posts: frontmatter, times, accounts, media and each platform\'s limits'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview completions help" -f -a "preview" -d 'Show what each account will receive: text of every part, length of the limit, media, problems'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
