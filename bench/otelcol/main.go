// Command otelcol-bench is the OpenTelemetry Collector used as the peer in Lumina's
// side-by-side ingest benchmark (bench/side-by-side.sh). It is built from the collector's Go
// modules with exactly the components the builder manifest in
// ../shared/reference/performance.md §5.1 lists (OTLP receiver, memory_limiter and batch
// processors, nop exporter, file and env config providers), wired the way the collector
// builder's generated main does: otelcol.NewCommand over a Factories function.
//
// This module is separate from Lumina's own (bench/go.mod), so none of it enters Lumina's
// dependencies.
package main

import (
	"log"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
)

// Versions of the components, reported by `otelcol-bench components`.
const (
	coreVersion   = "v0.165.0"
	stableVersion = "v1.71.0"
)

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol-bench",
			Description: "OpenTelemetry Collector (OTLP receiver, memory_limiter, batch, nop) for Lumina's side-by-side benchmark",
			Version:     coreVersion,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
				},
				DefaultScheme: "env",
			},
		},
		ProviderModules: map[string]string{
			envprovider.NewFactory().Create(confmap.ProviderSettings{}).Scheme():  "go.opentelemetry.io/collector/confmap/provider/envprovider " + stableVersion,
			fileprovider.NewFactory().Create(confmap.ProviderSettings{}).Scheme(): "go.opentelemetry.io/collector/confmap/provider/fileprovider " + stableVersion,
		},
	}
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		log.Fatalf("collector server run finished with error: %v", err)
	}
}

// components lists the factories: one receiver, two processors, one exporter, no extensions
// or connectors.
func components() (otelcol.Factories, error) {
	var err error
	f := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
	if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory()); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Processors, err = otelcol.MakeFactoryMap[processor.Factory](
		batchprocessor.NewFactory(),
		memorylimiterprocessor.NewFactory(),
	); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](nopexporter.NewFactory()); err != nil {
		return otelcol.Factories{}, err
	}
	mod := func(path, version string) string { return "go.opentelemetry.io/collector/" + path + " " + version }
	f.ReceiverModules = map[component.Type]string{otlpreceiver.NewFactory().Type(): mod("receiver/otlpreceiver", coreVersion)}
	f.ProcessorModules = map[component.Type]string{
		batchprocessor.NewFactory().Type():         mod("processor/batchprocessor", coreVersion),
		memorylimiterprocessor.NewFactory().Type(): mod("processor/memorylimiterprocessor", coreVersion),
	}
	f.ExporterModules = map[component.Type]string{nopexporter.NewFactory().Type(): mod("exporter/nopexporter", coreVersion)}
	return f, nil
}
