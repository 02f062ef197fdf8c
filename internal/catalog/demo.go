package catalog

import (
	"context"
	"fmt"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// The demo catalog is the seed's examples, made consistent with each other
// so that the seed's requests work as sent:
//
//   - Host pools: the two pools of List VM resource pools (ID-13) in the
//     default location cyc01, with the seed's uuids, so the VM-create curl's
//     designated_pool_uuid (d2fc6881-…, "Performance") resolves; bus02 gets
//     the same two server classes under uuids of its own (uuids are global).
//   - Images: the two images of VM images list (ID-71: almalinux 8, the
//     default; centos 7.3.1611/7.6/8.2 in the app catalog) exactly as in the
//     sample, so the ID-71 and ID-73 answers are the samples' images, then
//     the other OS names of VM parameters (ID-70: ubuntu 16.04, windows
//     2016, debian 9.1) with the versions other seed requests use (ubuntu
//     22.04-lts of Reinstall VM, 20.04 of the Modify VM sample), since one
//     catalogue drives both (ID-amb-31). ID-70's centos 6.9.1611 is left
//     out: adding it would change the sample's centos image.
//   - VM parameter rules: the VM parameters sample (ID-70) verbatim.

// DemoHostPools are the demo host pools.
func DemoHostPools() []PutHostPoolInput {
	const general, performance = "A server class for a wide range of purposes", "another fine server class"
	return []PutHostPoolInput{
		{NewUUID: "4820b11f-82c9-4313-a1ef-14d6039981db", Location: "cyc01", Name: "General", Description: general, IsDefault: true},
		{NewUUID: "d2fc6881-9316-46d7-b515-b6cddaeee927", Location: "cyc01", Name: "Performance", Description: performance},
		{NewUUID: "6f1c2a9e-3b7d-4e58-9a41-0c8d2e7b5f13", Location: "bus02", Name: "General", Description: general, IsDefault: true},
		{NewUUID: "b7e4d0c2-5a19-4f36-8e2b-91d3c6a7f048", Location: "bus02", Name: "Performance", Description: performance},
	}
}

func versions(vs ...string) []ImageVersion {
	out := make([]ImageVersion, len(vs))
	for i, v := range vs {
		out[i] = ImageVersion{OSVersion: v, DisplayName: v, Published: true}
	}
	return out
}

// DemoImages are the demo images.
func DemoImages() []PutImageInput {
	return []PutImageInput{
		{OSName: "almalinux", DisplayName: "Almalinux", UIPosition: 1, IsDefault: true, Icon: "...", Versions: versions("8")},
		{OSName: "centos", DisplayName: "Centos", UIPosition: 2, IsAppCatalog: true, Icon: "....",
			Versions: versions("7.3.1611", "7.6", "8.2")},
		{OSName: "ubuntu", DisplayName: "Ubuntu", UIPosition: 3, Icon: "...", Versions: versions("16.04", "20.04", "22.04-lts")},
		{OSName: "windows", DisplayName: "Windows", UIPosition: 4, Icon: "...", Versions: versions("2016")},
		{OSName: "debian", DisplayName: "Debian", UIPosition: 5, Icon: "...", Versions: versions("9.1")},
	}
}

func ptr[T any](v T) *T { return &v }

// DefaultVMParams are the VM parameter rules of the seed's sample (ID-70),
// which --demo loads and an operator starts from.
func DefaultVMParams() []PutParamInput {
	return []PutParamInput{
		{Parameter: ParamDisks, Description: "Size of main storage in gigabytes.", Mandatory: true, Min: ptr[int64](20), Max: ptr[int64](240)},
		{Parameter: ParamName, Description: "Name of the VM", Mandatory: true, Expression: `^[0-9a-zA-Z][-0-9a-zA-Z]{2,}[0-9a-zA-Z]$`},
		{Parameter: ParamOSName, Description: "OS name of VM base image.", Mandatory: true},
		{Parameter: ParamOSVersion, Description: "OS version of VM base image.", Mandatory: true},
		{Parameter: ParamPassword, Description: "Password for logging in to the VM.", Mandatory: true,
			Expression: `^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,}$`},
		{Parameter: ParamRAM, Description: "Amount of RAM.", Mandatory: true, Min: ptr[int64](512), Max: ptr[int64](65536),
			Limits: []Limit{{OSName: "windows", Min: ptr[int64](1024)}}},
		{Parameter: ParamUsername, Description: "Username for logging in to the VM.", Mandatory: true,
			Expression: `^(?=.{1,30}$)[a-zA-Z_][0-9a-zA-Z_-]*$`, Limits: []Limit{{OSName: "windows", Mandatory: ptr(false)}}},
		{Parameter: ParamVCPU, Description: "Number of CPUs.", Mandatory: true, Min: ptr[int64](1), Max: ptr[int64](16),
			Limits: []Limit{{OSName: "windows", Min: ptr[int64](2)}}},
	}
}

// LoadDemoResources puts the demo host pools, images and VM parameter
// rules (idempotent: a second run rewrites the same values). The demo
// locations must exist (LoadDemo).
func (s *Service) LoadDemoResources(ctx context.Context, a actor.Actor) error {
	for _, in := range DemoHostPools() {
		if p, err := s.GetHostPool(ctx, in.NewUUID); err == nil {
			in.UUID, in.NewUUID, in.Location = p.UUID, "", ""
			in.IsDefault = in.IsDefault || p.IsDefault
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		if _, err := s.PutHostPool(ctx, a, in); err != nil {
			return fmt.Errorf("demo host pool %s/%s: %w", in.Location, in.Name, err)
		}
	}
	for _, in := range DemoImages() {
		if im, err := s.GetImage(ctx, in.OSName); err == nil {
			in.IsDefault = in.IsDefault || im.IsDefault
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		if _, err := s.PutImage(ctx, a, in); err != nil {
			return fmt.Errorf("demo image %s: %w", in.OSName, err)
		}
	}
	for _, in := range DefaultVMParams() {
		if _, err := s.PutVMParam(ctx, a, in); err != nil {
			return fmt.Errorf("demo VM parameter %s: %w", in.Parameter, err)
		}
	}
	return nil
}
