// Everything a plugin author needs, in one include.
#pragma once

#include "wampd/abi.h"
#include "wampd/arguments.h"
#include "wampd/broadcast_topic.h"
#include "wampd/connection.h"
#include "wampd/errors.h"
#include "wampd/identity.h"
#include "wampd/plugin.h"
#include "wampd/request.h"
#include "wampd/rpc_handler.h"
#include "wampd/secured_topic.h"
#include "wampd/status.h"
#include "wampd/topic.h"
#include "wampd/topic_handler.h"
#include "wampd/user_provider.h"
#include "wampd/value.h"
