package mapstore

// ConfigError is a bucket-config rejection whose text is libvbucket's
// (moxi's for ErrEmptyConfig), byte for byte. moxi logs these as "ERROR: bad JSON configuration from
// <src>: <text>", and operators grep for them, so the strings are part of
// the contract rather than prose we may improve. Being a string type, the
// values are constants and compare with == and errors.Is.
type ConfigError string

func (e ConfigError) Error() string { return string(e) }

// libvbucket's rejections (vbucket.c), in the order it checks them.
const (
	ErrInvalidJSON       ConfigError = "Failed to parse data. Invalid JSON?"
	ErrNodeLocator       ConfigError = "Expected string for nodeLocator"
	ErrNumReplicas       ConfigError = "Expected number <= 4 for numReplicas"
	ErrServerListType    ConfigError = "Expected array for serverList"
	ErrEmptyServerList   ConfigError = "Empty serverList"
	ErrServerListStrings ConfigError = "Expected array of strings for serverList"
	ErrNodesType         ConfigError = "Expected array for nodes"
	ErrNodeItem          ConfigError = "Expected json object for nodes array item"
	ErrKetamaNodeItem    ConfigError = "Expected object for nodes array item"
	ErrNodeHostname      ConfigError = "Expected string for node's hostname"
	ErrNodePorts         ConfigError = "Expected json object for node's ports"
	ErrNodeDirectPort    ConfigError = "Expected number for node's direct port"
	ErrVBucketMapType    ConfigError = "Expected array for vBucketMap"
	ErrNoVBuckets        ConfigError = "No vBuckets available; service maybe still initializing"
	ErrNumVBuckets       ConfigError = "Number of vBuckets must be a power of two > 0 and <= 65536"
	ErrVBucketRow        ConfigError = "Expected array of arrays each with numReplicas + 1 ints for vBucketMap"
	ErrServerID          ConfigError = "Server ID must be >= -1 and < num_servers"
	ErrForwardMapType    ConfigError = "Expected array for vBucketMapForward"
)

// ErrEmptyConfig is what ParseBucket and ParseBuckets return for input that
// is empty or only whitespace, such as the remainder after the last
// "\n\n\n\n" of a REST stream that the server closed. The text is moxi's
// ("ERROR: invalid, empty config from REST server <url>") so a caller can
// log it the same way; callers that expect such remainders test for it
// with errors.Is and skip it.
const ErrEmptyConfig ConfigError = "invalid, empty config"
