package idcloudhost

// PythonLiteralsToJSON lets the external tests send the seed's bodies the
// way the validator reads them.
var PythonLiteralsToJSON = pythonLiteralsToJSON
