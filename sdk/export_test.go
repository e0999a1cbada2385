package sdk

// Wire conversions, for the tests of package sdk_test.
var (
	DescriptionToProtoForTest   = descriptionToProto
	DescriptionFromProtoForTest = descriptionFromProto
)
