// Package cliutil is the common ground of edgerun's command-line
// programs, tools/edgerun (device) and tools/edgetrain (host): parsing
// with kong and dispatching to a command, the one-line error convention
// and exit codes, JSON output, and the subcommands both programs share
// (version, keygen, sign).
//
// A program describes its commands as a kong grammar, a struct whose
// fields tagged `cmd:""` are commands with a Run(*Env) error method, and
// hands it to App.Run. Adding a subcommand is adding a field.
//
// Conventions every command follows:
//
//   - Results go to Env.Stdout; nothing else does.
//   - A failure is returned as an error; App.Run prints it as exactly one
//     line, "<program>: <command> <operand>: <cause>", on stderr and exits
//     with ExitFailure. Usage errors exit with ExitUsage.
//   - Commands that report figures take --json and then print one JSON
//     object with lowercase snake_case field names.
//
// Package cliutil imports format and kong; it must not import tools/train
// or gonum, because tools/edgerun links it onto devices.
package cliutil
