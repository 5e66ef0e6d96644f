// pulumi-language-nodejs for pulumi-mailserver: a minimal Node.js language host, built by
// scripts/install-pulumi.sh against the LanguageRuntime service of the same sdk/v3 release as the
// CLI it sits beside.
//
// Why our own: Pulumi's host has been its own Go module since v3.69.0, and the module proxy does
// not serve that module at any version. The last host inside sdk/v3 (v3.68.0) runs programs, but it
// puts a proxy of the v3.68.0 ResourceMonitor between the program and the engine, so every newer
// monitor method fails with UNIMPLEMENTED; resource hooks (RegisterResourceHook, CLI 3.182+) are
// among them. This host hands the program the engine's own monitor address.
//
// What it does: Run starts `node <@pulumi/pulumi/cmd/run> --monitor … <program>` in the program's
// folder with the stack's config in PULUMI_CONFIG, the way @pulumi/pulumi's cmd/run expects it, and
// reports the exit. It reports no required plugins: the engine loads an installed resource plugin
// when the program first uses it, and Node.js dynamic providers need only our launcher
// pulumi-resource-pulumi-nodejs. `pulumi install`, `pulumi about`, `pulumi new`, `pulumi convert`
// and package generation are not served (the CLI falls back or says the host does not support them).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exitAfterReportedError is @pulumi/pulumi's exit code for "the error was already shown to the
// person": the engine then stops without a second message (RunResponse.bail).
const exitAfterReportedError = 32

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func main() {
	// The engine starts plugins with optional logging flags first and its own address last.
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-language-nodejs [flags] ENGINE_ADDRESS (the Pulumi CLI starts this host)")
		os.Exit(2)
	}
	host := &languageHost{engineAddress: os.Args[len(os.Args)-1]}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: cannot listen on 127.0.0.1: %v\n", err)
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(server, host)
	// The engine reads the port from the first line of stdout.
	fmt.Println(listener.Addr().(*net.TCPAddr).Port)
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins: none ahead of the run (see the file comment).
func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// Run runs the program once (preview or update) and reports how it ended.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "node is not on the PATH: install Node.js to run this program"}, nil
	}
	pwd := req.GetPwd()
	runner, err := findPackageFile(pwd, "@pulumi/pulumi/cmd/run/index.js")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	options := req.GetInfo().GetOptions().AsMap()
	args := strings.Fields(stringOption(options, "nodeargs"))
	args = append(args, runner,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", pwd,
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	)
	if organization := req.GetOrganization(); organization != "" {
		args = append(args, "--organization", organization)
	}
	if root := req.GetInfo().GetRootDirectory(); root != "" {
		args = append(args, "--root-directory", root)
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	program := req.GetProgram()
	if program == "" {
		program = "." // package.json's main, else index.js
	}
	args = append(append(args, program), req.GetArgs()...)

	config, err := json.Marshal(nonNil(req.GetConfig()))
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	// Pulumi.yaml's runtime options: typescript (default true: ts-node for .ts programs), tsconfig.
	typescript, set := options["typescript"].(bool)
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(!set || typescript))
	if tsconfig := stringOption(options, "tsconfig"); tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}

	// #nosec G204 -- runs Node.js on the program the engine names, as any language host does.
	cmd := exec.Command(node, args...)
	cmd.Dir = pwd
	cmd.Env = env
	// The program's console output is ours: the engine shows it as the stack's diagnostics.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == exitAfterReportedError:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("the program exited with code %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("node could not be started: %v", err)}, nil
	}
}

// findPackageFile finds node_modules/FILE in dir or a parent, as Node.js resolves a package.
func findPackageFile(dir, file string) (string, error) {
	for current := dir; ; current = filepath.Dir(current) {
		candidate := filepath.Join(current, "node_modules", file)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		if filepath.Dir(current) == current {
			return "", fmt.Errorf("@pulumi/pulumi is not installed in %s or a parent folder: run `npm install` in the Pulumi project", dir)
		}
	}
}

func stringOption(options map[string]any, name string) string {
	value, _ := options[name].(string)
	return value
}

func nonNil(config map[string]string) map[string]string {
	if config == nil {
		return map[string]string{}
	}
	return config
}
