package cli

import (
	"context"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
)

// RunE wires a command's options into cobra the same way everywhere: take
// the arguments, validate before any network access, then run with a
// context that Ctrl-C cancels, so commands end cleanly (printing what they
// have) instead of being killed.
func RunE(args *[]string, validate func() error, run func(context.Context) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, a []string) error {
		*args = a
		if err := validate(); err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
		defer stop()
		// The first Ctrl-C asks the command to finish; restoring the default
		// handler then lets a second one end the process, even while it is
		// blocked (e.g. reading stdin).
		go func() {
			<-ctx.Done()
			stop()
		}()
		return run(ctx)
	}
}
